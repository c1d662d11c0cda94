"""What a course tells the people in it when it changes: a cancellation or a new date,
time or place reaches every seat holder and everyone waiting, by mail, with a calendar
file that replaces (METHOD:REQUEST) or withdraws (METHOD:CANCEL) what they imported.

Every such change raises the course's `calendar_sequence`, so calendar clients, feeds
included, take the new version over the one they have.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core import mail, outbox
from app.core.accounts.models import User
from app.core.extensions import db
from app.core.formatting import local_datetime
from app.core.links import external_url
from courses.models import Course, Enrollment, EnrollmentStatus


@dataclass(frozen=True)
class Schedule:
    """What of a course people have in their calendars: its sessions and its place."""

    sessions: tuple[tuple[datetime, datetime], ...]
    venue: str

    @classmethod
    def of(cls, course: Course) -> Schedule:
        """The course as its calendar files show it (`exports.course_slots`)."""
        from courses import exports

        slots = exports.course_slots([course])[course.id]
        return cls(
            sessions=tuple((slot.starts_at, slot.ends_at) for slot in slots), venue=course.venue
        )


def course_context(course: Course) -> dict[str, Any]:
    """What every course mail shows: the course, its dates and its page."""
    return {
        "course": course,
        "course_dates": dates_text(Schedule.of(course).sessions),
        "course_url": external_url("courses.detail", course_id=course.id),
    }


def dates_text(sessions: tuple[tuple[datetime, datetime], ...]) -> str:
    """ "2027-03-04 10:00–17:00", one line per session."""
    return "\n".join(
        f"{local_datetime(start)}–{local_datetime(end, 'HH:mm')}"
        if local_datetime(start, "yyyyMMdd") == local_datetime(end, "yyyyMMdd")
        else f"{local_datetime(start)} – {local_datetime(end)}"
        for start, end in sessions
    )


def people_in(course_id: int) -> list[Enrollment]:
    """Seat holders and everyone waiting, with their accounts."""
    return list(
        db.session.execute(
            select(Enrollment)
            .where(
                Enrollment.course_id == course_id,
                Enrollment.status.in_([EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITING]),
            )
            .options(joinedload(Enrollment.learner))
            .order_by(Enrollment.id)
        ).scalars()
    )


def course_cancelled(course: Course, *, by: User | None) -> int:
    """Tell everyone in a cancelled course, with the calendar file that withdraws it."""
    from courses import exports

    def withdrawal(learner: User, waiting: bool) -> list[outbox.Attachment]:
        return exports.invitation_attachments(
            course, cancelled=True, attendee_email=learner.email, attendee_name=learner.name
        )

    context = {"reason": course.cancel_reason, "catalog_url": external_url("courses.catalog")}
    return _tell_everyone(
        course,
        "course_cancelled",
        _("[Cancelled] %(title)s", title=course.title),
        context,
        calendar_file=withdrawal,
        by=by,
    )


def schedule_changes(before: Schedule, after: Schedule) -> list[tuple[str, str]]:
    """The changes people must hear about, as (what, "before → after") rows."""
    changes = []
    if before.sessions != after.sessions:
        changes.append(
            (_("Date"), f"{dates_text(before.sessions)}\n→ {dates_text(after.sessions)}")
        )
    if before.venue != after.venue:
        changes.append((_("Place"), f"{before.venue} → {after.venue}"))
    return changes


def course_rescheduled(course: Course, before: Schedule, *, reason: str, by: User | None) -> int:
    """When the sessions or the place changed, tell everyone in the course; seat holders
    get the calendar file that updates their entry. Returns the mails queued."""
    from courses import exports

    changes = schedule_changes(before, Schedule.of(course))
    if not changes:
        return 0

    def update(learner: User, waiting: bool) -> list[outbox.Attachment]:
        if waiting:
            return []  # only a seat goes into people's calendars
        return exports.invitation_attachments(
            course,
            cancelled=False,
            attendee_email=learner.email,
            attendee_name=learner.name,
            previous_session_count=len(before.sessions),
        )

    return _tell_everyone(
        course,
        "course_changed",
        _("[Changed] %(title)s", title=course.title),
        {"changes": changes, "reason": reason.strip()},
        calendar_file=update,
        by=by,
    )


def _tell_everyone(
    course: Course,
    kind: str,
    subject: str,
    context: dict[str, Any],
    *,
    calendar_file: Callable[[User, bool], list[outbox.Attachment]],
    by: User | None,
) -> int:
    """Raise the course's calendar sequence and mail `kind` to each person in the course,
    once per version of the course (the sequence is in the dedupe key)."""
    course.calendar_sequence += 1
    db.session.flush()
    context = {**course_context(course), **context}
    sent = 0
    for enrollment in people_in(course.id):
        learner = enrollment.learner
        waiting = enrollment.status == EnrollmentStatus.WAITING
        sent += outbox.queue(
            learner.email,
            subject,
            kind,
            context={**context, "waiting": waiting},
            to_name=learner.name,
            dedupe_key=f"{kind}:{course.id}:{course.calendar_sequence}:enrollment:{enrollment.id}",
            attachments=calendar_file(learner, waiting),
            responsible=mail.staff_contact(by),
        )
    return sent
