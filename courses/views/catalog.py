"""The catalog, the course page and an instructor's own courses."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from app.core.access import public, roles
from app.core.accounts.models import Role
from app.core.page_cache import shared_briefly
from app.core.timeutil import utcnow
from courses import enrolment, materials, services
from courses.forms import CheckInForm, CourseFilterForm, MaterialForm
from courses.models import CourseStatus
from courses.views.blueprint import bp
from courses.views.common import acting_user, course_or_404


@bp.route("/courses/")
@public
@shared_briefly
def catalog():
    form = CourseFilterForm(formdata=request.args)
    number = request.args.get("page", 1, type=int)
    page = services.catalog_page(
        services.CourseFilter(**form.filter_data()), number=min(max(number, 1), 100_000)
    )
    return render_template("courses/catalog.html", form=form, page=page, courses=page.courses)


@bp.route("/courses/<int:course_id>")
@public
@shared_briefly
def detail(course_id: int):
    course = course_or_404(course_id)
    can_manage = services.can_manage_materials(course, current_user)
    mine = None
    if current_user.is_authenticated:
        mine = enrolment.find_enrollment(course.id, current_user.id)
    # A seat holder gets the current version of each material (standard 7).
    handed_out = can_manage or materials.is_seat(mine)
    return render_template(
        "courses/detail.html",
        course=course,
        materials=services.current_materials(course) if handed_out else [],
        can_manage_materials=can_manage,
        materials_handed_out=handed_out,
        material_form=MaterialForm() if can_manage else None,
        enrollment=mine,
        waiting_position=enrolment.waiting_position(mine) if mine else None,
        can_cancel=mine is not None and enrolment.can_cancel(mine, course),
        enrolment_open=course.status == CourseStatus.PUBLISHED and not course.has_started(utcnow()),
        cancellation_closed=utcnow() >= course.cancel_deadline,
        # A form makes its CSRF token, and with it a session, when it is built: none for
        # an anonymous visitor, whose page is then the same for everyone and shared.
        checkin_form=CheckInForm() if mine is not None else None,
    )


@bp.route("/courses/mine")
@roles(Role.INSTRUCTOR, Role.STAFF)
def my_teaching():
    return render_template("courses/mine.html", courses=services.courses_taught_by(acting_user()))
