"""The courses feature's part of standard 10: what it holds about a person, and erasure."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from app.core.accounts.models import User
from app.core.extensions import db
from app.core.timeutil import utcnow
from courses import enrolment
from courses.models import (
    Attendance,
    Course,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    Subscriber,
)


def export(user: User) -> dict[str, Any]:
    enrolments = db.session.execute(
        select(Enrollment, Course.title, Course.starts_at)
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.learner_id == user.id)
        .order_by(Course.starts_at)
    ).all()
    attendance = db.session.execute(
        select(Attendance.status, CourseSession.starts_at, Course.title)
        .join(CourseSession, CourseSession.id == Attendance.session_id)
        .join(Course, Course.id == CourseSession.course_id)
        .join(Enrollment, Enrollment.id == Attendance.enrollment_id)
        .where(Enrollment.learner_id == user.id)
        .order_by(CourseSession.starts_at)
    ).all()
    subscriber = db.session.execute(
        select(Subscriber).where(Subscriber.email == user.email)
    ).scalar_one_or_none()
    return {
        "enrolments": [
            {
                "course": title,
                "starts_at": starts.isoformat(),
                "status": e.status.value,
                "completed": e.completed,
                "attended_hours": None if e.attended_hours is None else float(e.attended_hours),
            }
            for e, title, starts in enrolments
        ],
        "attendance": [
            {"course": title, "session": starts.isoformat(), "status": status.value}
            for status, starts, title in attendance
        ],
        "newsletter": None
        if subscriber is None
        else {
            "subscribed_at": subscriber.created_at.isoformat(),
            "confirmed": subscriber.confirmed_at is not None,
            "unsubscribed": subscriber.unsubscribed_at is not None,
        },
    }


def erase(user: User) -> None:
    """Upcoming seats and waiting-list places are released (a seat goes to the next person
    waiting, whatever the cancellation cut-off); the newsletter subscription is deleted."""
    active = db.session.execute(
        select(Enrollment).where(
            Enrollment.learner_id == user.id,
            Enrollment.status.in_([EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITING]),
        )
    ).scalars()
    now = utcnow()
    for enrollment in active.all():
        if not db.session.get(Course, enrollment.course_id).has_started(now):
            enrolment.release_for_erasure(enrollment)
    db.session.execute(delete(Subscriber).where(Subscriber.email == user.email))
