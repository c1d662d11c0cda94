"""The annual calendar: the page, the printed leaflet, the iCalendar feeds, publishing;
and a learner's personal feed link, created and revoked from /me/.

Every feed and the leaflet are conditional (ETag, Last-Modified, 304): calendar apps
poll them. A response to a signed-in person is `private` (staff see unpublished years
and drafts); the personal feed always is.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core import caching, document_cache
from app.core.access import public, roles, staff_only
from app.core.accounts.models import Role
from app.core.confirmation import confirmation_page
from app.core.downloads import pdf_response
from app.core.forms import ConfirmForm
from app.core.links import external_url
from app.core.page_cache import shared_briefly
from courses import exports, feeds, services
from courses.forms import CourseFilterForm
from courses.models import CalendarYear, Course, CourseStatus
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
    year = services.current_calendar_year()
    if year is None:
        return render_template("calendar/none.html"), 404
    return redirect(url_for("courses.calendar", year=year))


@bp.route("/calendar/<int:year>")
@public
@shared_briefly
def calendar(year: int):
    if services.valid_year(year) and not is_staff() and not services.calendar_is_public(year):
        # Still 404 (the URL contract), but a page that says when the year comes out.
        return render_template(
            "calendar/not_yet.html", year=year, years=services.published_years()
        ), 404
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
        webcal_url=feeds.webcal(external_url("courses.calendar_ics", year=year)),
        upcoming_webcal_url=feeds.webcal(external_url("courses.upcoming_feed")),
    )


def _changed(calendar: CalendarYear | None, courses: list[Course]) -> datetime | None:
    """What the year's feed and leaflet were last changed by: a course, or publishing."""
    published = calendar.published_at if calendar is not None else None
    return caching.latest([published, exports.last_modified(courses)])


@bp.route("/calendar/<int:year>.pdf")
@public
@shared_briefly
def calendar_pdf(year: int):
    calendar = _calendar_or_404(year)
    if is_staff():  # drafts included: laid out from the courses (once per change of them)
        courses = _calendar_courses(year)
        data, changed = exports.leaflet_pdf(year, calendar, courses), _changed(calendar, courses)
    else:
        stamp = services.calendar_stamp(calendar)
        data = document_cache.stored(
            "leaflet",
            stamp.key,
            lambda: exports.leaflet_pdf(year, calendar, _calendar_courses(year)),
            ".pdf",
        )
        changed = stamp.last_modified
    return caching.conditional(
        pdf_response(data, f"calendar-{year}.pdf"),
        last_modified=changed,
        private=current_user.is_authenticated,
    )


@bp.route("/calendar/<int:year>.ics")
@public
@shared_briefly
def calendar_ics(year: int):
    calendar = _calendar_or_404(year)

    def feed() -> bytes:
        courses = [c for c in _calendar_courses(year) if c.status != CourseStatus.DRAFT]
        return exports.calendar_ics(year, courses)

    # The same feed for everyone (drafts never in it): made once per change of the year.
    stamp = services.calendar_stamp(calendar) if calendar is not None else None
    if stamp is None:  # staff looking at a year not prepared yet
        data, changed = feed(), None
    else:
        data, changed = document_cache.stored("feed", stamp.key, feed, ".ics"), stamp.last_modified
    return feeds.ics_response(
        data,
        f"calendar-{year}.ics",
        last_modified=changed,
        private=current_user.is_authenticated,
    )


# `/calendar/upcoming.ics` cannot be taken for a year: `<int:year>` matches digits only.
@bp.route("/calendar/upcoming.ics")
@public
@shared_briefly
def upcoming_feed():
    courses = feeds.upcoming_courses()
    return feeds.ics_response(
        exports.upcoming_ics(courses),
        "upcoming-courses.ics",
        last_modified=exports.last_modified(courses),
        private=current_user.is_authenticated,
    )


@bp.route("/calendar/personal/<token>.ics")
@public  # the secret token is the proof: calendar apps fetch without signing in
def personal_feed(token: str):
    user = feeds.feed_owner(token)
    if user is None:
        abort(404)
    courses, changed = feeds.personal_courses(user)
    response = feeds.ics_response(
        exports.personal_ics(user, courses),
        "my-courses.ics",
        last_modified=changed,
        private=True,
    )
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.route("/calendar/personal", methods=["POST"])
@roles(Role.LEARNER)
def create_personal_feed():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    feeds.create_feed_token(acting_user())
    flash(_("Your calendar link is ready. Add it to your calendar app."), "success")
    return redirect(url_for("me.home") + "#calendar-feed")


@bp.route("/calendar/personal/revoke", methods=["POST"])
@roles(Role.LEARNER)
def revoke_personal_feed():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if feeds.revoke_feed_token(acting_user()):
        flash(_("Your calendar link has been revoked; it no longer works."), "info")
    return redirect(url_for("me.home") + "#calendar-feed")


@bp.route("/calendar/<int:year>/publish", methods=["GET", "POST"])
@staff_only
def publish_calendar(year: int):
    if not services.valid_year(year):
        abort(404)
    if request.method == "GET":
        return confirmation_page(
            title=_("Publish the %(year)d calendar?", year=year),
            consequences=[
                _(
                    "Every published course of the year becomes public, with the leaflet and "
                    "the calendar feed."
                ),
                _("Service standard 1 counts the day it is published."),
            ],
            action=url_for("courses.publish_calendar", year=year),
            confirm=_("Publish the calendar"),
            back=url_for("courses.calendar", year=year),
            danger=False,
        )
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.publish_calendar(year, by=acting_user())
    except services.CourseError as error:
        flash(error.message, "error")
    else:
        flash(_("The %(year)d calendar is now public.", year=year), "success")
    return redirect(url_for("courses.calendar", year=year))
