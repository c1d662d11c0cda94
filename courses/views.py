"""Catalog, course pages, staff course management, the annual calendar and the public API."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.utils import secure_filename
from wtforms.fields.choices import SelectChoice

from app.core.access import public, roles, staff_only
from app.core.accounts.models import Role
from app.core.forms import flash_form_errors, show_domain_error
from app.core.timeutil import local_today, utcnow
from courses import enrolment, exports, services
from courses.forms import (
    CancelCourseForm,
    CheckInForm,
    ConfirmForm,
    CourseFilterForm,
    CourseForm,
    MaterialForm,
)
from courses.models import Course, CourseStatus

bp = Blueprint("courses", __name__)

ALL_STATUSES = tuple(CourseStatus)


def _course_or_404(course_id: int) -> Course:
    course = services.get_course(course_id)
    if course is None or not services.can_see_course(course, current_user):
        abort(404)
    return course


def _is_staff() -> bool:
    return current_user.is_authenticated and current_user.role == Role.STAFF


def _instructor_choices(form: CourseForm) -> None:
    form.instructor_ids.choices = [
        SelectChoice(str(user.id), user.name) for user in services.instructors()
    ]


# --- Catalog and course pages ------------------------------------------------------------


@bp.route("/courses/")
@public
def catalog():
    form = CourseFilterForm(formdata=request.args)
    courses = services.find_courses(form.to_filter())
    return render_template("courses/catalog.html", form=form, courses=courses)


@bp.route("/courses/<int:course_id>")
@public
def detail(course_id: int):
    course = _course_or_404(course_id)
    can_manage = services.can_manage_materials(course, current_user)
    mine = None
    if current_user.is_authenticated:
        mine = enrolment.find_enrollment(course.id, current_user.id)
    return render_template(
        "courses/detail.html",
        course=course,
        materials=services.current_materials(course) if can_manage else [],
        can_manage_materials=can_manage,
        material_form=MaterialForm() if can_manage else None,
        enrollment=mine,
        waiting_position=enrolment.waiting_position(mine) if mine else None,
        can_cancel=mine is not None and enrolment.can_cancel(mine, course),
        enrolment_open=course.status == CourseStatus.PUBLISHED and not course.has_started(utcnow()),
        confirm_form=ConfirmForm(),
        checkin_form=CheckInForm(),
    )


@bp.route("/courses/mine")
@roles(Role.INSTRUCTOR, Role.STAFF)
def my_teaching():
    return render_template(
        "courses/mine.html", courses=services.courses_taught_by(current_user._get_current_object())
    )


# --- Staff management --------------------------------------------------------------------


@bp.route("/courses/manage")
@staff_only
def manage():
    form = CourseFilterForm(formdata=request.args)
    filters = form.to_filter()
    courses = services.find_courses(filters, statuses=ALL_STATUSES, include_private=True)
    return render_template("courses/manage.html", form=form, courses=courses)


@bp.route("/courses/new", methods=["GET", "POST"])
@staff_only
def create():
    form = CourseForm()
    _instructor_choices(form)
    if form.validate_on_submit():
        try:
            course = services.create_course(form.details(), by=current_user._get_current_object())
        except services.CourseError as error:
            show_domain_error(form, error)
        else:
            flash(_("The course has been created as a draft."), "success")
            return redirect(url_for("courses.detail", course_id=course.id))
    return render_template("courses/form.html", form=form, course=None)


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@staff_only
def edit(course_id: int):
    course = _course_or_404(course_id)
    form = CourseForm(obj=None if request.method == "POST" else _form_data(course))
    _instructor_choices(form)
    if form.validate_on_submit():
        try:
            services.update_course(course, form.details(), by=current_user._get_current_object())
        except services.CourseError as error:
            show_domain_error(form, error)
        else:
            flash(_("The course has been saved."), "success")
            return redirect(url_for("courses.detail", course_id=course.id))
    return render_template("courses/form.html", form=form, course=course)


def _form_data(course: Course):
    """The course as the form shows it: local wall-clock times, instructor ids."""
    return SimpleNamespace(
        **{name: getattr(course, name) for name in services.COURSE_FIELDS},
        starts_at=course.local_start.replace(tzinfo=None),
        ends_at=course.local_end.replace(tzinfo=None),
        instructor_ids=[user.id for user in course.instructors],
    )


@bp.route("/courses/<int:course_id>/publish", methods=["POST"])
@staff_only
def publish(course_id: int):
    course = _course_or_404(course_id)
    try:
        services.publish_course(course, by=current_user._get_current_object())
    except services.CourseError as error:
        flash(error.message, "error")
    else:
        flash(_("The course has been published."), "success")
    return redirect(url_for("courses.detail", course_id=course.id))


@bp.route("/courses/<int:course_id>/cancellation", methods=["GET", "POST"])
@staff_only
def cancel_course(course_id: int):
    course = _course_or_404(course_id)
    form = CancelCourseForm()
    if form.validate_on_submit():
        try:
            services.cancel_course(course, form.reason.data, by=current_user._get_current_object())
        except services.CourseError as error:
            show_domain_error(form, error)
        else:
            flash(_("The course has been cancelled."), "success")
            return redirect(url_for("courses.detail", course_id=course.id))
    return render_template("courses/cancel.html", form=form, course=course)


@bp.route("/courses/<int:course_id>/materials", methods=["POST"])
@roles(Role.INSTRUCTOR, Role.STAFF)
def upload_material(course_id: int):
    course = _course_or_404(course_id)
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
                by=current_user._get_current_object(),
            )
        except services.CourseError as error:
            flash(error.message, "error")
        else:
            flash(_("The material has been uploaded."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("courses.detail", course_id=course.id) + "#materials")


@bp.route("/courses/materials/<int:material_id>")
@roles(Role.INSTRUCTOR, Role.STAFF)
def download_material(material_id: int):
    material = services.get_material(material_id)
    if material is None:
        abort(404)
    if not services.can_manage_materials(material.course, current_user):
        abort(403)
    response = Response(material.data, mimetype=material.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{material.filename}"'
    return response


# --- Annual calendar ---------------------------------------------------------------------


def _calendar_or_404(year: int):
    if not services.valid_year(year):
        abort(404)
    calendar = services.get_calendar(year)
    published = calendar is not None and calendar.is_published
    if not published and not _is_staff():
        abort(404)
    return calendar


def _calendar_courses(year: int, filters=None) -> list[Course]:
    filters = filters or services.CourseFilter()
    statuses = ALL_STATUSES if _is_staff() else (CourseStatus.PUBLISHED, CourseStatus.CANCELLED)
    return services.find_courses(replace(filters, year=year), statuses=statuses)


@bp.route("/calendar/")
@public
def calendar_index():
    years = services.published_years()
    if not years:
        return render_template("calendar/none.html"), 404
    today_year = local_today().year
    year = today_year if today_year in years else years[-1]
    return redirect(url_for("courses.calendar", year=year))


@bp.route("/calendar/<int:year>")
@public
def calendar(year: int):
    calendar = _calendar_or_404(year)
    form = CourseFilterForm(formdata=request.args)
    courses = _calendar_courses(year, form.to_filter(year=year))
    return render_template(
        "calendar/year.html",
        year=year,
        calendar=calendar,
        form=form,
        months=services.group_by_month(courses),
        course_count=len(courses),
        years=services.published_years(),
    )


@bp.route("/calendar/<int:year>.pdf")
@public
def calendar_pdf(year: int):
    calendar = _calendar_or_404(year)
    pdf = exports.leaflet_pdf(year, calendar, _calendar_courses(year))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="calendar-{year}.pdf"'
    return response


@bp.route("/calendar/<int:year>.ics")
@public
def calendar_ics(year: int):
    _calendar_or_404(year)
    courses = [c for c in _calendar_courses(year) if c.status != CourseStatus.DRAFT]
    response = Response(exports.calendar_ics(year, courses), mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="calendar-{year}.ics"'
    return response


@bp.route("/calendar/<int:year>/publish", methods=["POST"])
@staff_only
def publish_calendar(year: int):
    if not services.valid_year(year):
        abort(404)
    try:
        services.publish_calendar(year, by=current_user._get_current_object())
    except services.CourseError as error:
        flash(error.message, "error")
    else:
        flash(_("The %(year)d calendar is now public.", year=year), "success")
    return redirect(url_for("courses.calendar", year=year))


# --- Public API --------------------------------------------------------------------------


@bp.route("/api/v1/courses")
@public
def api_courses():
    raw_year = request.args.get("year", "")
    if not raw_year.isdigit() or not services.valid_year(int(raw_year)):
        return jsonify({"error": _("Give a year between 2000 and 2100, e.g. ?year=2027.")}), 400
    year = int(raw_year)
    if not services.calendar_is_public(year):
        return jsonify({"year": year, "published": False, "courses": []})
    courses = services.find_courses(services.CourseFilter(year=year))
    return jsonify(
        {"year": year, "published": True, "courses": [_course_json(course) for course in courses]}
    )


def _course_json(course: Course) -> dict:
    return {
        "id": course.id,
        "title": course.title,
        "summary": course.summary,
        "audience": course.audience,
        "company_size": course.size_focus,
        "format": course.format,
        "region": course.region,
        "venue": course.venue,
        "starts_at": course.starts_at.isoformat(),
        "ends_at": course.ends_at.isoformat(),
        "hours": float(course.hours),
        "capacity": course.capacity,
        "seats_left": course.seats_left,
        "fee": course.fee,
        "instructors": [user.name for user in course.instructors],
        "url": url_for("courses.detail", course_id=course.id, _external=True),
    }


# The other route groups of this blueprint; imported last, as they import `bp` from here.
from courses import views_announcements, views_enrolment  # noqa: E402, F401
