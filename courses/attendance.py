"""Sessions, attendance (by the instructor or by the learner's check-in code) and completion."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from app.core import audit
from app.core.accounts.models import Role, User
from app.core.errors import DomainError
from app.core.extensions import db
from app.core.timeutil import to_local, utcnow
from certificates import services as certificates
from courses import schedule
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
    """One session per teaching day (`courses.schedule`), each with its check-in code."""
    return [
        CourseSession(
            course_id=course.id,
            starts_at=planned.starts_at,
            ends_at=planned.ends_at,
            hours=planned.hours,
            checkin_code=new_checkin_code(),
        )
        for planned in schedule.plan_sessions(course.starts_at, course.ends_at, course.hours)
    ]


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
    course = db.session.get(Course, session.course_id)
    if course.closed_at is not None:
        recompute_completion(course, by=by)
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
    """Record completion for every seat holder by the course's rule (default 80 % of hours),
    and settle each one's certificate in the same action."""
    now = now or utcnow()
    if course.closed_at is not None:
        raise AttendanceError(_("This course has already been closed."))
    if now < course.ends_at:
        raise AttendanceError(_("A course can be closed only after it has ended."))
    course.closed_at = now
    course.closed_by_id = by.id
    return _apply_completion_rule(course, keep_overrides=False, by=by, action="course.close")


def recompute_completion(course: Course, *, by: User) -> CompletionSummary:
    """Attendance changed after the course was closed: apply the rule again (a completion
    that staff overrode keeps the override) and settle the certificates; audited."""
    return _apply_completion_rule(course, keep_overrides=True, by=by, action="completion.recompute")


def _apply_completion_rule(
    course: Course, *, keep_overrides: bool, by: User, action: str
) -> CompletionSummary:
    """Completion by the course's rule for every seat holder, each certificate settled, and
    one audit entry `action` with the counts."""
    total = sum((s.hours for s in sessions_of(course.id)), Decimal(0))
    hours = attended_hours(course.id)
    completed = not_completed = 0
    for enrollment in roster(course.id):
        enrollment.attended_hours = hours.get(enrollment.id, Decimal(0))
        if not (keep_overrides and enrollment.completion_override_reason):
            enrollment.completed = meets_rule(
                enrollment.attended_hours, total, course.completion_threshold
            )
        completed += bool(enrollment.completed)
        not_completed += not enrollment.completed
        settle_certificate(enrollment, by=by)
    audit.record(
        action,
        course,
        by=by,
        completed=completed,
        not_completed=not_completed,
        total_hours=str(total),
    )
    return CompletionSummary(completed, not_completed)


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
    settle_certificate(enrollment, by=by)


def record_survey_submitted(enrollment_id: int) -> None:
    """The learner submitted the post-course survey, the certificate's last gate.

    Only the fact is stored: the UPDATE sets no `updated_at`, so nothing on the enrolment
    says when (see the anonymity notes in surveys/models.py).
    """
    db.session.execute(
        update(Enrollment)
        .where(Enrollment.id == enrollment_id)
        .values(survey_submitted=True, updated_at=Enrollment.updated_at)
        .execution_options(synchronize_session=False)
    )
    enrollment = db.session.get(Enrollment, enrollment_id)
    db.session.refresh(enrollment)
    settle_certificate(enrollment)


# --- Certificates ------------------------------------------------------------------------


def certificate_refusal(enrollment: Enrollment, course: Course) -> str | None:
    """Why this enrolment has no certificate, or None when it has one."""
    if not enrollment.completed:
        return _("A certificate is issued once the course is completed.")
    if course.requires_survey and not enrollment.survey_submitted:
        return _("Please answer the course survey first; your certificate is issued right after.")
    return None


def settle_certificate(
    enrollment: Enrollment, *, by: User | None = None
) -> certificates.Certificate | None:
    """The one place that decides an enrolment's certificate, from its completion and, where
    the course asks for it, the post-course survey: issued when both hold, revoked (with the
    reason, which the public verify page shows) when completion is withdrawn.

    Every path that changes attendance, completion or survey status ends here. Returns the
    valid certificate, or None.
    """
    course = db.session.get(Course, enrollment.course_id)
    if certificate_refusal(enrollment, course) is None:
        return certificates.issue(_facts(enrollment, course), issuer=_issuer(course, by), by=by)
    if enrollment.completed is False:
        certificates.withdraw(
            enrollment.id, _("Completion withdrawn: the course was not completed."), by=by
        )
        return None
    # Completed, waiting for the survey: a certificate already out stays as it is.
    return certificates.valid_certificate(enrollment.id)


def settle_course_certificates(course: Course, *, by: User | None) -> int:
    """Settle every closed enrolment of the course; returns how many certificates are new."""
    before = len(certificates.course_certificates(course.id))
    for enrollment in roster(course.id):
        if enrollment.completed is not None:
            settle_certificate(enrollment, by=by)
    return len(certificates.course_certificates(course.id)) - before


def _issuer(course: Course, by: User | None) -> User | None:
    """The staff member named on the certificate: the one acting, else the one who closed
    the course (who recorded the completion it certifies)."""
    if by is not None and by.role == Role.STAFF:
        return by
    return db.session.get(User, course.closed_by_id) if course.closed_by_id else None


def _facts(enrollment: Enrollment, course: Course) -> certificates.CertificateFacts:
    learner = db.session.get(User, enrollment.learner_id)
    return certificates.CertificateFacts(
        enrollment_id=enrollment.id,
        learner_id=learner.id,
        holder_name=learner.name,
        course_id=course.id,
        course_title=course.title,
        course_start=to_local(course.starts_at).date(),
        course_end=to_local(course.ends_at).date(),
        hours=course.hours,
    )
