"""Standard 10: a person sees all their personal data and can have it deleted.

Deletion removes or scrubs what identifies the person: the account is pseudonymised and
disabled (its rows stay, so course statistics and other people's records hold together),
upcoming seats are released to the waiting list, pending survey links and newsletter
subscriptions are deleted. Survey answers were never linked to the person. Certificates
already issued stay verifiable, as the institute must keep what it certified.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from app.core import audit
from app.core.accounts.models import Role, User
from app.core.accounts.services import AccountError
from app.core.extensions import db
from app.core.timeutil import utcnow

DELETED_NAME = "탈퇴 회원"


def personal_data(user: User) -> dict[str, Any]:
    """Everything the system holds about the person, as JSON-ready data."""
    from certificates.models import Certificate
    from courses.models import (
        Attendance,
        Course,
        CourseSession,
        Enrollment,
        Subscriber,
    )
    from surveys.models import Invitation
    from visits.models import Signup

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
    certificates = db.session.execute(
        select(Certificate).where(Certificate.learner_id == user.id).order_by(Certificate.issued_at)
    ).scalars()
    invitations = db.session.execute(
        select(Invitation, Course.title)
        .outerjoin(Course, Course.id == Invitation.course_id)
        .where(Invitation.learner_id == user.id)
    ).all()
    subscriber = db.session.execute(
        select(Subscriber).where(Subscriber.email == user.email)
    ).scalar_one_or_none()
    signups = db.session.execute(select(Signup).where(Signup.email == user.email)).scalars()
    return {
        "exported_at": utcnow().isoformat(),
        "account": {
            "email": user.email,
            "name": user.name,
            "phone": user.phone,
            "department": user.department,
            "role": user.role.value,
            "created_at": user.created_at.isoformat(),
            "company": None
            if user.company is None
            else {
                "name": user.company.name,
                "business_number": user.company.business_number,
            },
        },
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
        "certificates": [
            {
                "serial": c.serial,
                "course": c.course_title,
                "status": c.status.value,
                "issued_at": c.issued_at.isoformat(),
            }
            for c in certificates
        ],
        "surveys": [
            {
                "kind": i.kind.value,
                "course": title,
                "half": i.half,
                "sent_at": i.sent_at.isoformat(),
                "answered_on": None if i.answered_on is None else i.answered_on.isoformat(),
                "answers": "anonymous: never linked to you",
            }
            for i, title in invitations
        ],
        "newsletter": None
        if subscriber is None
        else {
            "subscribed_at": subscriber.created_at.isoformat(),
            "confirmed": subscriber.confirmed_at is not None,
            "unsubscribed": subscriber.unsubscribed_at is not None,
        },
        "onsite_signups": [
            {
                "request_id": s.request_id,
                "name": s.name,
                "department": s.department,
                "signed_up_at": s.created_at.isoformat(),
            }
            for s in signups
        ],
    }


def delete_personal_data(user: User, password: str) -> None:
    from courses import enrolment
    from courses.models import Enrollment, EnrollmentStatus, Subscriber
    from surveys.models import Invitation
    from visits.models import Signup

    if not user.check_password(password):
        raise AccountError(_("The password is not correct."), "password")
    if user.role == Role.STAFF:
        raise AccountError(_("Staff accounts are closed by the institute's administrator."))
    for enrollment in (
        db.session.execute(
            select(Enrollment).where(
                Enrollment.learner_id == user.id,
                Enrollment.status.in_([EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITING]),
            )
        )
        .scalars()
        .all()
    ):
        if not _started(enrollment.course_id):
            enrolment.cancel(enrollment, by=user)  # the seat goes to the waiting list
    old_email = user.email
    db.session.execute(delete(Subscriber).where(Subscriber.email == old_email))
    db.session.execute(
        delete(Invitation).where(Invitation.learner_id == user.id, Invitation.answered_on.is_(None))
    )
    db.session.execute(
        update(Signup)
        .where(Signup.email == old_email)
        .values(
            name=DELETED_NAME,
            email=f"deleted-{secrets.token_hex(6)}@deleted.invalid",
            department="",
        )
    )
    user.name = DELETED_NAME
    user.email = f"deleted-{user.id}-{secrets.token_hex(4)}@deleted.invalid"
    user.phone = user.department = None
    user.set_password(secrets.token_urlsafe(32))
    user.active = False
    user.rotate_session_token()
    audit.record("user.delete_personal_data", user, by=user)
    db.session.commit()


def _started(course_id: int) -> bool:
    from courses.models import Course

    course = db.session.get(Course, course_id)
    return course.has_started(utcnow())
