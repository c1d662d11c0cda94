"""The annual calendar: the page, the printed leaflet, the iCalendar feed, publishing."""

from __future__ import annotations

from dataclasses import replace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.core.access import public, staff_only
from app.core.downloads import file_response, pdf_response
from app.core.timeutil import local_today
from courses import exports, services
from courses.forms import CourseFilterForm
from courses.models import Course, CourseStatus
from courses.views.blueprint import bp
from courses.views.common import ALL_STATUSES, acting_user, is_staff


def _calendar_or_404(year: int):
    if not services.valid_year(year):
        abort(404)
    calendar = services.get_calendar(year)
    published = calendar is not None and calendar.is_published
    if not published and not is_staff():
        abort(404)
    return calendar


def _calendar_courses(year: int, filters: services.CourseFilter | None = None) -> list[Course]:
    filters = filters or services.CourseFilter()
    statuses = ALL_STATUSES if is_staff() else (CourseStatus.PUBLISHED, CourseStatus.CANCELLED)
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
    courses = _calendar_courses(year, services.CourseFilter(**form.filter_data(year=year)))
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
    return pdf_response(pdf, f"calendar-{year}.pdf")


@bp.route("/calendar/<int:year>.ics")
@public
def calendar_ics(year: int):
    _calendar_or_404(year)
    courses = [c for c in _calendar_courses(year) if c.status != CourseStatus.DRAFT]
    return file_response(
        exports.calendar_ics(year, courses),
        f"calendar-{year}.ics",
        "text/calendar; charset=utf-8",
        inline=True,
    )


@bp.route("/calendar/<int:year>/publish", methods=["POST"])
@staff_only
def publish_calendar(year: int):
    if not services.valid_year(year):
        abort(404)
    try:
        services.publish_calendar(year, by=acting_user())
    except services.CourseError as error:
        flash(error.message, "error")
    else:
        flash(_("The %(year)d calendar is now public.", year=year), "success")
    return redirect(url_for("courses.calendar", year=year))
