"""Staff course management: create, edit, publish, cancel; course materials."""

from __future__ import annotations

from types import SimpleNamespace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.utils import secure_filename
from wtforms.fields.choices import SelectChoice

from app.core.access import roles, signed_in, staff_only
from app.core.accounts.models import Role
from app.core.downloads import file_response
from app.core.forms import flash_form_errors, show_domain_error
from app.core.timeutil import local_today
from courses import materials, services
from courses.forms import CancelCourseForm, CourseFilterForm, CourseForm, MaterialForm
from courses.models import Course
from courses.views.blueprint import bp
from courses.views.common import ALL_STATUSES, acting_user, back_to_course, course_or_404


def _instructor_choices(form: CourseForm) -> None:
    form.instructor_ids.choices = [
        SelectChoice(str(user.id), user.name) for user in services.instructors()
    ]


def _form_data(course: Course):
    """The course as the form shows it: local wall-clock times, instructor ids."""
    return SimpleNamespace(
        **{name: getattr(course, name) for name in services.COURSE_FIELDS},
        starts_at=course.local_start.replace(tzinfo=None),
        ends_at=course.local_end.replace(tzinfo=None),
        instructor_ids=[user.id for user in course.instructors],
    )


@bp.route("/courses/manage")
@staff_only
def manage():
    form = CourseFilterForm(formdata=request.args)
    courses = services.find_courses(
        services.CourseFilter(**form.filter_data()), statuses=ALL_STATUSES, include_private=True
    )
    return render_template("courses/manage.html", form=form, courses=courses)


@bp.route("/courses/new", methods=["GET", "POST"])
@staff_only
def create():
    form = CourseForm()
    _instructor_choices(form)
    if form.validate_on_submit():
        try:
            course = services.create_course(
                services.CourseDetails(**form.details_data()), by=acting_user()
            )
        except services.CourseError as error:
            show_domain_error(form, error)
        else:
            flash(_("The course has been created as a draft."), "success")
            return back_to_course(course)
    return render_template("courses/form.html", form=form, course=None)


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@staff_only
def edit(course_id: int):
    course = course_or_404(course_id)
    form = CourseForm(obj=None if request.method == "POST" else _form_data(course))
    _instructor_choices(form)
    if form.validate_on_submit():
        try:
            services.update_course(
                course,
                services.CourseDetails(**form.details_data()),
                by=acting_user(),
                change_reason=form.change_reason.data or "",
            )
        except services.CourseError as error:
            show_domain_error(form, error)
        else:
            flash(_("The course has been saved."), "success")
            return back_to_course(course)
    return render_template("courses/form.html", form=form, course=course)


@bp.route("/courses/<int:course_id>/publish", methods=["POST"])
@staff_only
def publish(course_id: int):
    course = course_or_404(course_id)
    try:
        services.publish_course(course, by=acting_user())
    except services.CourseError as error:
        flash(error.message, "error")
    else:
        flash(_("The course has been published."), "success")
    return back_to_course(course)


@bp.route("/courses/<int:course_id>/cancellation", methods=["GET", "POST"])
@staff_only
def cancel_course(course_id: int):
    course = course_or_404(course_id)
    form = CancelCourseForm()
    if form.validate_on_submit():
        try:
            services.cancel_course(course, form.reason.data, by=acting_user())
        except services.CourseError as error:
            show_domain_error(form, error)
        else:
            flash(_("The course has been cancelled."), "success")
            return back_to_course(course)
    return render_template("courses/cancel.html", form=form, course=course)


# --- Materials ---------------------------------------------------------------------------


@bp.route("/courses/<int:course_id>/materials", methods=["POST"])
@roles(Role.INSTRUCTOR, Role.STAFF)
def upload_material(course_id: int):
    course = course_or_404(course_id)
    if not services.can_manage_materials(course, current_user):
        abort(403)
    form = MaterialForm()
    if form.validate_on_submit():
        upload = form.file.data
        filename = secure_filename(upload.filename or "") or "material"
        try:
            services.add_material(
                course,
                title=form.title.data or upload.filename or filename,
                filename=filename,
                data=upload.read(),
                by=acting_user(),
            )
        except services.CourseError as error:
            flash(error.message, "error")
        else:
            flash(_("The material has been uploaded."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("courses.detail", course_id=course.id) + "#materials")


@bp.route("/courses/materials/<int:material_id>")
@signed_in
def download_material(material_id: int):
    """Staff and the course's instructors download any version; a learner with a seat in
    the course its current version (`materials.can_download`)."""
    material = services.get_material(material_id)
    if material is None:
        abort(404)
    if not materials.can_download(material, current_user):
        abort(403)
    return file_response(material.data, material.filename, material.content_type)


@bp.route("/courses/materials/stale")
@staff_only
def stale_materials():
    """The year's courses whose materials are older than a year before the start, or
    missing, with the standard's figures for the year."""
    year = request.args.get("year", local_today().year, type=int)
    if not services.valid_year(year):
        abort(404)
    number = min(max(request.args.get("page", 1, type=int), 1), 100_000)
    return render_template(
        "courses/stale_materials.html",
        year=year,
        page=materials.staleness_page(year, number=number),
        standard=materials.materials_standard(year),
        fresh_days=materials.FRESH_DAYS,
    )
