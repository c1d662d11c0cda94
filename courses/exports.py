"""The calendar as a printable leaflet (PDF) and as iCalendar: the feeds people subscribe
to (METHOD:PUBLISH) and the invitations a mail carries (METHOD:REQUEST and CANCEL).

One VEVENT per session, not per course: a two-day course is two events of a day each,
not one block from the first morning to the last evening. The events of a course share
its UID stem: session n of course 12 is `course-12-n@<host>`, with `RELATED-TO` the
course, `course-12@<host>`. Sessions are rebuilt with new ids when a course's dates move,
so the UID counts the session's place in the course (1..n by start), which stays: after
a reschedule every client replaces day n with the new day n, because the course's
`calendar_sequence` went up. A day that no longer exists is withdrawn by a METHOD:CANCEL
of its UID (`invitation_attachments`). The host is BASE_URL's, never the request's.

Feeds are the same bytes for the same data (their DTSTAMP is the course's last change,
not the time of the request), so that their ETag holds until something changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event, vCalAddress, vDuration
from sqlalchemy import select

from app.core.accounts.models import User
from app.core.document_cache import cached_pdf
from app.core.extensions import db
from app.core.formatting import document_text
from app.core.links import external_url
from app.core.outbox import Attachment
from app.core.timeutil import utcnow
from courses import schedule
from courses.models import CalendarYear, Course, CourseSession, CourseStatus
from courses.services import group_by_month

PRODID = "-//CourseDesk//Training calendar//KO"
#: How often a subscribed calendar app should fetch a feed again.
REFRESH = timedelta(hours=12)
#: Courses per query when loading sessions (well below every engine's parameter limit).
_CHUNK = 500


def leaflet_pdf(year: int, calendar: CalendarYear | None, courses: list[Course]) -> bytes:
    """The printable leaflet, laid out once per change of what it shows (`cached_pdf`);
    staff may print a draft year, which has no CalendarYear yet."""
    return cached_pdf(
        "calendar/leaflet.html",
        year=year,
        calendar=calendar,
        months=group_by_month(courses),
        course_count=len(courses),
    )


# --- Sessions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A session as calendars see it: its place in the course (1..n) and its times."""

    ordinal: int
    starts_at: datetime
    ends_at: datetime


def course_slots(courses: Iterable[Course]) -> dict[int, list[Slot]]:
    """Each course's sessions, numbered by start, loaded for all courses at once. A course
    without session rows (created before sessions existed) gets the sessions its dates
    give (`courses.schedule.plan_sessions`)."""
    courses = list(courses)
    times: dict[int, list[tuple[datetime, datetime]]] = {course.id: [] for course in courses}
    ids = list(times)
    for first in range(0, len(ids), _CHUNK):
        rows = db.session.execute(
            select(CourseSession.course_id, CourseSession.starts_at, CourseSession.ends_at)
            .where(CourseSession.course_id.in_(ids[first : first + _CHUNK]))
            .order_by(CourseSession.course_id, CourseSession.starts_at, CourseSession.id)
        ).all()
        for course_id, starts_at, ends_at in rows:
            times[course_id].append((starts_at, ends_at))
    for course in courses:
        if not times[course.id]:
            planned = schedule.plan_sessions(course.starts_at, course.ends_at, course.hours)
            times[course.id] = [(session.starts_at, session.ends_at) for session in planned]
    return {
        course_id: [Slot(n, start, end) for n, (start, end) in enumerate(rows, start=1)]
        for course_id, rows in times.items()
    }


def uid_host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def course_uid(course_id: int) -> str:
    return f"course-{course_id}@{uid_host()}"


def session_uid(course_id: int, ordinal: int) -> str:
    return f"course-{course_id}-{ordinal}@{uid_host()}"


def last_modified(courses: Iterable[Course]) -> datetime | None:
    """The newest change among the courses: what a feed of them was last changed by."""
    return max((course.updated_at for course in courses), default=None)


# --- Feeds (METHOD:PUBLISH) ----------------------------------------------------------------


def calendar_ics(year: int, courses: list[Course]) -> bytes:
    """The year's feed: every session of every course given, cancelled ones as CANCELLED."""
    name = f"{current_app.config['INSTITUTE_NAME']} {year}"
    return _publish(name, courses)


def upcoming_ics(courses: list[Course]) -> bytes:
    """The feed of the upcoming courses (the caller picks them: published and public)."""
    name = f"{current_app.config['INSTITUTE_NAME']} · {_('Upcoming courses')}"
    return _publish(name, courses)


def personal_ics(user: User, courses: list[Course]) -> bytes:
    """A learner's own feed: the courses they hold a seat in, including cancelled ones,
    which stay as CANCELLED so that calendar apps take them off the day."""
    name = f"{current_app.config['INSTITUTE_NAME']} · {_('My courses')}"
    return _publish(name, courses)


def _publish(name: str, courses: list[Course]) -> bytes:
    feed = _calendar("PUBLISH")
    feed.add("name", name)  # RFC 7986
    feed.add("x-wr-calname", name)
    feed.add("x-wr-timezone", current_app.config["TIMEZONE"])
    feed.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", vDuration(REFRESH))  # what Outlook reads
    slots = course_slots(courses)
    for course in courses:
        for slot in slots[course.id]:
            # DTSTAMP from the data, so the same data gives the same bytes (and ETag).
            feed.add_component(_event(course, slot, len(slots[course.id]), course.updated_at))
    return feed.to_ical()


# --- Invitations (iTIP, RFC 5546, sent by mail as iMIP) ------------------------------------


def invitation_ics(
    course: Course,
    *,
    method: str,
    attendee_email: str,
    attendee_name: str | None,
    dropped_ordinals: Sequence[int] = (),
) -> bytes:
    """An invitation for one recipient, from the institute, with every event carrying
    ORGANIZER and ATTENDEE.

    `method="REQUEST"`: the course's current sessions (a new or a changed course).
    `method="CANCEL"`: every current session withdrawn (a cancelled course), or, when
    `dropped_ordinals` is given, only those sessions: the days a reschedule removed, which
    one object cannot cancel beside a REQUEST, as it has one METHOD. Their old times are
    gone, so their DTSTART is the course's span (clients match a CANCEL by UID); their
    summary numbers them as the recipient's calendar did ("day 3 of 3").
    """
    method = method.upper()
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"an invitation is a REQUEST or a CANCEL, not {method!r}")
    if method == "REQUEST" and dropped_ordinals:
        raise ValueError(
            "dropped sessions are withdrawn by a METHOD:CANCEL object; see invitation_attachments"
        )
    feed = _calendar(method)
    slots = course_slots([course])[course.id]
    stamp = utcnow()
    if method == "REQUEST":
        events = [_event(course, slot, len(slots), stamp) for slot in slots]
    elif not dropped_ordinals:
        events = [_event(course, slot, len(slots), stamp, cancelled=True) for slot in slots]
    else:
        current = {slot.ordinal: slot for slot in slots}
        ordinals = sorted(set(dropped_ordinals))
        total = max(ordinals[-1], len(slots))
        events = [
            _event(
                course,
                current.get(n) or Slot(n, course.starts_at, course.ends_at),
                total,
                stamp,
                cancelled=True,
            )
            for n in ordinals
        ]
    organizer, attendee = _organizer(), _attendee(attendee_email, attendee_name, method)
    for event in events:
        event.add("organizer", organizer)
        event.add("attendee", attendee)
        feed.add_component(event)
    return feed.to_ical()


def invitation_attachments(
    course: Course,
    *,
    cancelled: bool,
    attendee_email: str,
    attendee_name: str | None,
    previous_session_count: int | None = None,
) -> list[Attachment]:
    """The calendar files a course mail carries.

    A cancelled course: `course-<id>-cancel.ics`, METHOD:CANCEL of all its sessions (and of
    any that existed before, up to `previous_session_count`). Otherwise `course-<id>.ics`,
    METHOD:REQUEST of the current sessions, and, when a reschedule left fewer sessions than
    `previous_session_count`, `course-<id>-cancel.ics` withdrawing the days that are gone.
    """
    person = {"attendee_email": attendee_email, "attendee_name": attendee_name}
    count = len(course_slots([course])[course.id])
    previous = previous_session_count or 0
    if cancelled:
        ordinals = range(1, max(count, previous) + 1) if previous > count else ()
        data = invitation_ics(course, method="CANCEL", dropped_ordinals=ordinals, **person)
        return [_ics_attachment(f"course-{course.id}-cancel.ics", "CANCEL", data)]
    attachments = [
        _ics_attachment(
            f"course-{course.id}.ics",
            "REQUEST",
            invitation_ics(course, method="REQUEST", **person),
        )
    ]
    if previous > count:
        dropped = range(count + 1, previous + 1)
        data = invitation_ics(course, method="CANCEL", dropped_ordinals=dropped, **person)
        attachments.append(_ics_attachment(f"course-{course.id}-cancel.ics", "CANCEL", data))
    return attachments


def _ics_attachment(filename: str, method: str, data: bytes) -> Attachment:
    return Attachment(filename, f"text/calendar; charset=utf-8; method={method}", data)


def _organizer() -> vCalAddress:
    config = current_app.config
    address = parseaddr(config["MAIL_DEFAULT_SENDER"])[1] or config["MAIL_DEFAULT_SENDER"]
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["CN"] = _parameter(config["INSTITUTE_NAME"])
    return organizer


def _attendee(email: str, name: str | None, method: str) -> vCalAddress:
    attendee = vCalAddress(f"mailto:{email}")
    if name and _parameter(name):
        attendee.params["CN"] = _parameter(name)
    attendee.params["CUTYPE"] = "INDIVIDUAL"
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    if method == "REQUEST":
        attendee.params["PARTSTAT"] = "NEEDS-ACTION"
        # Enrolment happens on the site; a calendar's accept/decline reply reaches no one.
        attendee.params["RSVP"] = "FALSE"
    return attendee


def _parameter(value: str) -> str:
    """A parameter value iCalendar can hold: no double quote, no control character."""
    return " ".join(document_text(value).replace('"', "'").split())


# --- Shared --------------------------------------------------------------------------------


def _calendar(method: str) -> Calendar:
    feed = Calendar()
    feed.add("prodid", PRODID)
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", method)
    return feed


def _event(
    course: Course, slot: Slot, total: int, stamp: datetime, *, cancelled: bool = False
) -> Event:
    cancelled = cancelled or course.status == CourseStatus.CANCELLED
    title = document_text(course.title)
    event = Event()
    event.add("uid", session_uid(course.id, slot.ordinal))
    event.add("related-to", course_uid(course.id))
    event.add("sequence", course.calendar_sequence)
    event.add("dtstamp", stamp)
    event.add("last-modified", course.updated_at)
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.ends_at)
    if total > 1:
        title = _(
            "%(title)s (day %(number)d of %(total)d)", title=title, number=slot.ordinal, total=total
        )
    event.add("summary", title)
    event.add("description", _description(course))
    event.add("location", document_text(course.venue))
    event.add("url", external_url("courses.detail", course_id=course.id))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _description(course: Course) -> str:
    text = f"{course.summary}\n\n{course.content}"
    if course.status == CourseStatus.CANCELLED and course.cancel_reason:
        text = f"{_('Reason for cancellation')}: {course.cancel_reason}\n\n{text}"
    return document_text(text)
