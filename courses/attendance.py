"""Sessions, attendance (by the instructor or by the learner's check-in code) and completion."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.core import audit
from app.core.accounts.models import Role, User
from app.core.errors import DomainError
from app.core.extensions import db
from app.core.timeutil import local_to_utc, to_local, utcnow
from certificates import services as certificates
from courses.models import (
    Attendance,
    AttendanceStatus,
    Course,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in class
#: Check-in opens this long before a session starts; after this long it counts as late.
CHECKIN_OPENS = timedelta(minutes=30)
LATE_AFTER = timedelta(minutes=10)
ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


class AttendanceError(DomainError):
    """A refused operation in courses, with a message for the person."""


def new_checkin_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def sessions_of(course_id: int) -> list[CourseSession]:
    return list(
        db.session.execute(
            select(CourseSession)
            .where(CourseSession.course_id == course_id)
            .order_by(CourseSession.starts_at)
        ).scalars()
    )


def default_sessions(course: Course) -> list[CourseSession]:
    """One session per weekday from the first to the last day, the hours shared out."""
    first, last = to_local(course.starts_at), to_local(course.ends_at)
    days = [
        first.date() + timedelta(days=offset)
        for offset in range((last.date() - first.date()).days + 1)
        if (first.date() + timedelta(days=offset)).weekday() < 5 or first.date() == last.date()
    ] or [first.date()]
    share = (course.hours / len(days)).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    sessions = []
    for number, day in enumerate(days):
        hours = share if number < len(days) - 1 else course.hours - share * (len(days) - 1)
        sessions.append(
            CourseSession(
                course_id=course.id,
                starts_at=_on(day, first.time()),
                ends_at=_on(day, last.time()) if last.time() > first.time() else course.ends_at,
                hours=hours,
                checkin_code=new_checkin_code(),
            )
        )
    return sessions


def _on(day: date, moment: time) -> datetime:
    return local_to_utc(datetime.combine(day, moment.replace(tzinfo=None)))


def reset_sessions(course: Course) -> None:
    """Rebuild the default sessions while no attendance has been taken."""
    existing = sessions_of(course.id)
    if existing and _has_attendance(course.id):
        return
    for session in existing:
        db.session.delete(session)
    db.session.add_all(default_sessions(course))


def _has_attendance(course_id: int) -> bool:
    return (
        db.session.execute(
            select(func.count())
            .select_from(Attendance)
            .join(CourseSession, CourseSession.id == Attendance.session_id)
            .where(CourseSession.course_id == course_id)
        ).scalar_one()
        > 0
    )


def roster(course_id: int) -> list[Enrollment]:
    """The learners holding a seat, by name."""
    return list(
        db.session.execute(
            select(Enrollment)
            .join(Enrollment.learner)
            .where(
                Enrollment.course_id == course_id, Enrollment.status == EnrollmentStatus.ENROLLED
            )
            .options(joinedload(Enrollment.learner))
            .order_by(User.name, Enrollment.id)
        ).scalars()
    )


def marks_for(session: CourseSession) -> dict[int, AttendanceStatus]:
    rows = db.session.execute(
        select(Attendance.enrollment_id, Attendance.status).where(
            Attendance.session_id == session.id
        )
    ).all()
    return dict(rows)


def can_take_attendance(course: Course, user: User) -> bool:
    return user.role == Role.STAFF or any(t.id == user.id for t in course.instructors)


def record_attendance(
    session: CourseSession, marks: dict[int, AttendanceStatus], *, by: User
) -> int:
    """Save the whole roster's marks for one session; returns how many changed."""
    enrolled = {e.id for e in roster(session.course_id)}
    unknown = set(marks) - enrolled
    if unknown:
        raise AttendanceError(_("Some learners are not enrolled in this course."))
    existing = {
        a.enrollment_id: a
        for a in db.session.execute(
            select(Attendance).where(Attendance.session_id == session.id)
        ).scalars()
    }
    changed = 0
    for enrollment_id, status in marks.items():
        row = existing.get(enrollment_id)
        if row is None:
            db.session.add(
                Attendance(
                    session_id=session.id,
                    enrollment_id=enrollment_id,
                    status=status,
                    marked_by_id=by.id,
                )
            )
            changed += 1
        elif row.status != status:
            row.status, row.marked_by_id, row.marked_at = status, by.id, utcnow()
            changed += 1
    audit.record("attendance.record", session, by=by, object_type="course_session", changed=changed)
    db.session.commit()
    return changed


def check_in(
    course: Course, learner: User, code: str, *, now: datetime | None = None
) -> Attendance:
    """A learner checks in with the code shown in class, only while the session runs."""
    now = now or utcnow()
    code = code.strip().upper()
    enrollment = db.session.execute(
        select(Enrollment).where(
            Enrollment.course_id == course.id,
            Enrollment.learner_id == learner.id,
            Enrollment.status == EnrollmentStatus.ENROLLED,
        )
    ).scalar_one_or_none()
    if enrollment is None:
        raise AttendanceError(_("You are not enrolled in this course."))
    session = next(
        (s for s in sessions_of(course.id) if s.starts_at - CHECKIN_OPENS <= now <= s.ends_at),
        None,
    )
    if session is None:
        raise AttendanceError(_("Check-in is only open during a session of this course."))
    if not secrets.compare_digest(session.checkin_code, code):
        raise AttendanceError(_("The check-in code is not correct."))
    existing = db.session.execute(
        select(Attendance).where(
            Attendance.session_id == session.id, Attendance.enrollment_id == enrollment.id
        )
    ).scalar_one_or_none()
    if existing is not None and existing.status in ATTENDED:
        return existing
    status = (
        AttendanceStatus.PRESENT if now <= session.starts_at + LATE_AFTER else AttendanceStatus.LATE
    )
    if existing is None:
        existing = Attendance(session_id=session.id, enrollment_id=enrollment.id, status=status)
        db.session.add(existing)
    else:
        existing.status, existing.marked_by_id, existing.marked_at = status, None, now
    db.session.commit()
    return existing


# --- Completion --------------------------------------------------------------------------


@dataclass(frozen=True)
class CompletionSummary:
    completed: int
    not_completed: int


def attended_hours(course_id: int) -> dict[int, Decimal]:
    rows = db.session.execute(
        select(Attendance.enrollment_id, func.sum(CourseSession.hours))
        .join(CourseSession, CourseSession.id == Attendance.session_id)
        .where(CourseSession.course_id == course_id, Attendance.status.in_(ATTENDED))
        .group_by(Attendance.enrollment_id)
    ).all()
    return {enrollment_id: Decimal(hours) for enrollment_id, hours in rows}


def meets_rule(attended: Decimal, total: Decimal, threshold_percent: int) -> bool:
    if total <= 0:
        return False
    return attended * 100 >= total * threshold_percent


def close_course(course: Course, *, by: User, now: datetime | None = None) -> CompletionSummary:
    """Record completion for every seat holder by the course's rule (default 80 % of hours)."""
    now = now or utcnow()
    if course.closed_at is not None:
        raise AttendanceError(_("This course has already been closed."))
    if now < course.ends_at:
        raise AttendanceError(_("A course can be closed only after it has ended."))
    total = sum((s.hours for s in sessions_of(course.id)), Decimal(0))
    hours = attended_hours(course.id)
    summary = CompletionSummary(0, 0)
    for enrollment in roster(course.id):
        attended = hours.get(enrollment.id, Decimal(0))
        enrollment.attended_hours = attended
        enrollment.completed = meets_rule(attended, total, course.completion_threshold)
        summary = CompletionSummary(
            summary.completed + enrollment.completed,
            summary.not_completed + (not enrollment.completed),
        )
    course.closed_at = now
    course.closed_by_id = by.id
    audit.record(
        "course.close",
        course,
        by=by,
        completed=summary.completed,
        not_completed=summary.not_completed,
        total_hours=str(total),
    )
    db.session.commit()
    # Without a survey to wait for, the certificates go out with the completion.
    certificates.issue_for_course(course, by=by)
    return summary


def override_completion(enrollment: Enrollment, completed: bool, reason: str, *, by: User) -> None:
    if not reason.strip():
        raise AttendanceError(_("Give a reason for the change."))
    if enrollment.completed is None:
        raise AttendanceError(_("Completion is recorded when the course is closed."))
    before = enrollment.completed
    enrollment.completed = completed
    enrollment.completion_override_reason = reason.strip()
    audit.record(
        "completion.override",
        enrollment,
        by=by,
        before=before,
        after=completed,
        reason=reason.strip(),
    )
    db.session.commit()
