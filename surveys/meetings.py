"""Instructor meetings (standard 6) and the feedback pack each instructor brings to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.core import audit
from app.core.accounts.models import Role, User
from app.core.errors import DomainError
from app.core.extensions import db
from app.core.timeutil import local_to_utc, local_today
from courses.models import Course, course_instructors
from surveys import services
from surveys.models import InstructorMeeting

#: The charter's standard 6: at least this many meetings a year.
MEETINGS_PER_YEAR = 2


class MeetingError(DomainError):
    """A refused operation in surveys, with a message for the person."""


@dataclass
class MeetingRecord:
    held_on: date
    title: str
    attendee_ids: list[int]
    other_attendees: str = ""
    agenda: str = ""
    minutes: str = ""
    decisions: str = ""


def half_of(day: date) -> str:
    return f"{day.year}H{1 if day.month <= 6 else 2}"


def save(
    record: MeetingRecord, *, by: User, meeting: InstructorMeeting | None = None
) -> InstructorMeeting:
    if not record.title.strip():
        raise MeetingError(_("Enter a title."), "title")
    meeting = meeting or InstructorMeeting(created_by_id=by.id)
    for name, value in vars(record).items():
        setattr(meeting, name, value.strip() if isinstance(value, str) else value)
    meeting.half = half_of(record.held_on)
    db.session.add(meeting)
    db.session.flush()
    audit.record("meeting.save", meeting, by=by, held_on=record.held_on, half=meeting.half)
    return meeting


def all_meetings() -> list[InstructorMeeting]:
    return list(
        db.session.execute(
            select(InstructorMeeting).order_by(InstructorMeeting.held_on.desc())
        ).scalars()
    )


def previous(meeting: InstructorMeeting) -> InstructorMeeting | None:
    return db.session.execute(
        select(InstructorMeeting)
        .where(InstructorMeeting.held_on < meeting.held_on)
        .order_by(InstructorMeeting.held_on.desc())
        .limit(1)
    ).scalar_one_or_none()


def period(meeting: InstructorMeeting) -> tuple[datetime, datetime]:
    """Courses that ended since the previous meeting (or the start of the year) and before
    this one are what the pack reviews."""
    before = previous(meeting)
    start = before.held_on if before else date(meeting.held_on.year, 1, 1)
    return (
        local_to_utc(datetime.combine(start, time.min)),
        local_to_utc(datetime.combine(meeting.held_on, time.min)),
    )


@dataclass
class InstructorPack:
    instructor: User
    result: services.SurveyResult
    courses: list[services.CourseScore]


def instructors_in(start: datetime, end: datetime) -> list[User]:
    """Instructors who taught a course that ended in the period."""
    return list(
        db.session.execute(
            select(User)
            .join(course_instructors, course_instructors.c.user_id == User.id)
            .join(Course, Course.id == course_instructors.c.course_id)
            .where(Course.ends_at >= start, Course.ends_at < end, User.role == Role.INSTRUCTOR)
            .distinct()
            .order_by(User.name)
        ).scalars()
    )


def pack_for(meeting: InstructorMeeting, instructor: User) -> InstructorPack:
    start, end = period(meeting)
    return InstructorPack(
        instructor,
        services.instructor_result(instructor.id, since=start, until=end, max_comments=15),
        services.course_scores(start, end, instructor_id=instructor.id),
    )


def packs(meeting: InstructorMeeting) -> list[InstructorPack]:
    return [pack_for(meeting, instructor) for instructor in instructors_in(*period(meeting))]


@dataclass(frozen=True)
class MeetingStandard:
    held: int
    scheduled: int
    second_half_missing: bool

    @property
    def met(self) -> bool:
        return self.held >= MEETINGS_PER_YEAR


def meeting_standard(year: int, *, today: date | None = None) -> MeetingStandard:
    today = today or local_today()
    in_year = (InstructorMeeting.held_on >= date(year, 1, 1)) & (
        InstructorMeeting.held_on <= date(year, 12, 31)
    )
    held = db.session.execute(
        select(func.count())
        .select_from(InstructorMeeting)
        .where(in_year, InstructorMeeting.held_on <= today)
    ).scalar_one()
    scheduled = db.session.execute(
        select(func.count())
        .select_from(InstructorMeeting)
        .where(in_year, InstructorMeeting.held_on > today)
    ).scalar_one()
    second_half = db.session.execute(
        select(func.count())
        .select_from(InstructorMeeting)
        .where(
            InstructorMeeting.held_on >= date(year, 7, 1),
            InstructorMeeting.held_on <= date(year, 12, 31),
        )
    ).scalar_one()
    return MeetingStandard(held, scheduled, second_half_missing=second_half == 0)
