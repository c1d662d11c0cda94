"""The courses feature's part of standard 10: what it holds about a person, and erasure.

Enrolment and attendance rows stay, detached from the person by the pseudonymised
account, so seat counts and completion statistics of past courses do not change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select

from app.core.accounts.models import User
from app.core.erasure import Person, scrub_columns
from app.core.extensions import db
from app.core.timeutil import utcnow
from courses import enrolment
from courses.models import (
    Announcement,
    Attendance,
    CalendarFeedToken,
    CalendarYear,
    Course,
    CourseInterest,
    CourseInvitation,
    CourseSession,
    Enrollment,
    EnrollmentStatus,
    Material,
    Subscriber,
)

#: Free text staff write, where a person may be named (columns this feature owns).
FREE_TEXT = {
    Course: ["title", "summary", "content", "venue", "cancel_reason"],
    Material: ["title", "filename"],
    CalendarYear: ["foreword"],
    Enrollment: ["completion_override_reason"],
    Announcement: ["title", "body"],
    CourseInvitation: ["name"],
}


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
    address = user.email.strip().lower()
    interests = db.session.execute(
        select(CourseInterest)
        .where((CourseInterest.user_id == user.id) | (func.lower(CourseInterest.email) == address))
        .order_by(CourseInterest.id)
    ).scalars()
    feed_created = db.session.execute(
        select(CalendarFeedToken.created_at).where(CalendarFeedToken.user_id == user.id)
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
        # "Notify me" sign-ups (standard 5), without their secret links.
        "course_notices": [
            {
                "email": interest.email,
                "topic": interest.topic.value,
                "region": interest.region.value if interest.region else None,
                "audience": interest.audience.value if interest.audience else None,
                "note": interest.note,
                "created_at": interest.created_at.isoformat(),
                "confirmed": interest.confirmed_at is not None,
                "withdrawn": interest.withdrawn_at is not None,
            }
            for interest in interests
        ],
        # Whether a personal calendar link exists, not its secret: an export file is
        # often stored or forwarded, and the link would show the courses to anyone.
        "calendar_feed": None
        if feed_created is None
        else {"exists": True, "created_at": feed_created.isoformat()},
    }


def erase(user: User) -> None:
    """Upcoming seats and waiting-list places are released (a seat goes to the next person
    waiting, whatever the cancellation cut-off); the newsletter subscription, the "notify
    me" sign-ups (their notification records go with them), the personal calendar link
    and the companies' invitations of the address are deleted; mentions in staff texts
    are scrubbed."""
    _release_upcoming(user)
    db.session.execute(delete(CalendarFeedToken).where(CalendarFeedToken.user_id == user.id))
    address = user.email.strip().lower()
    db.session.execute(delete(Subscriber).where(func.lower(Subscriber.email) == address))
    db.session.execute(
        delete(CourseInterest).where(
            (CourseInterest.user_id == user.id) | (func.lower(CourseInterest.email) == address)
        )
    )
    db.session.execute(
        delete(CourseInvitation).where(func.lower(CourseInvitation.email) == address)
    )
    person = Person.of(user)
    for model, columns in FREE_TEXT.items():
        scrub_columns(model, columns, person)


def _release_upcoming(user: User) -> None:
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
