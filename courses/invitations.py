"""A company's bulk enrolment, as invitations that each person accepts.

A company's training contact lists addresses; every address gets a mail with a personal
link, and only the person who opens it takes a seat (or a place on the waiting list),
with their existing account or a new one they set up then. So a company cannot create
accounts for addresses, fill a course with them, or learn anything about an address:
the contact's page answers the same for every valid address, and shows only its own
invitations and its own employees' seats. Only companies approved by staff may invite,
at most BULK_INVITE_MAX_ADDRESSES addresses at a time.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.core import outbox
from app.core.accounts import consent
from app.core.accounts import services as accounts
from app.core.accounts.models import Company, ConsentSource, Role, User
from app.core.extensions import db, insert_ignoring_conflicts
from app.core.formatting import local_datetime
from app.core.links import external_url
from app.core.timeutil import utcnow
from courses import announcements, notifications
from courses.enrolment import EnrolmentError, EnrolmentResult, check_open, enroll
from courses.models import Course, CourseInvitation, EnrollmentSource

#: How long an invitation link works, at most (never past the course's start).
INVITATION_LIFETIME = timedelta(days=7)


@dataclass
class InvitationReport:
    """What the contact sees: counts of their own invitations, and the typing errors."""

    sent: list[str] = field(default_factory=list)
    already_invited: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def ensure_company_may_invite(contact: User) -> Company:
    company = contact.company
    if contact.role != Role.COMPANY or company is None:
        raise EnrolmentError(_("Your account is not linked to a company."))
    if not company.is_approved:
        raise EnrolmentError(
            _(
                "Your company is awaiting the institute's approval. You can invite employees "
                "once it is approved."
            )
        )
    return company


def invite_employees(
    course: Course, contact: User, addresses: Sequence[str | tuple[str, str | None]]
) -> InvitationReport:
    """Queue one invitation mail per new valid address (an address already invited by
    this company to this course is not mailed again). An address may come with the name
    the company knows the person by: the invitation page offers it for the account."""
    company = ensure_company_may_invite(contact)
    check_open(course)
    limit = current_app.config["BULK_INVITE_MAX_ADDRESSES"]
    if len(addresses) > limit:
        raise EnrolmentError(
            _("At most %(n)d addresses at a time, please: split the list.", n=limit),
            "addresses",
        )
    report = InvitationReport()
    for entry in addresses:
        address, name = (entry, None) if isinstance(entry, str) else entry
        email = _valid_address(address)
        if email is None:
            report.invalid.append(address)
        elif _invite(course, company, contact, email, name):
            report.sent.append(email)
        else:
            report.already_invited.append(email)
    return report


def _valid_address(address: str) -> str | None:
    try:
        return validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def _invite(course: Course, company: Company, contact: User, email: str, name: str | None) -> bool:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    table = CourseInvitation.__table__
    invitation_id = db.session.execute(
        insert_ignoring_conflicts(table, on=["course_id", "company_id", "email"])
        .values(
            course_id=course.id,
            company_id=company.id,
            email=email,
            name=name,
            token_hash=accounts.hash_token(token),
            invited_by_id=contact.id,
            created_at=now,
            expires_at=min(now + INVITATION_LIFETIME, course.starts_at),
        )
        .returning(table.c.id)
    ).scalar_one_or_none()
    if invitation_id is None:
        return False
    _queue_invitation_mail(course, company, contact, email, token, invitation_id)
    return True


def _queue_invitation_mail(
    course: Course, company: Company, contact: User, email: str, token: str, invitation_id: int
) -> None:
    outbox.queue(
        email,
        _("[Invitation] %(title)s", title=course.title),
        "course_invitation",
        context={
            **notifications.course_context(course),
            "contact_name": contact.name,
            "company_name": company.name,
            "invitation_url": external_url("courses.invitation", token=token),
            "until": local_datetime(min(utcnow() + INVITATION_LIFETIME, course.starts_at)),
        },
        dedupe_key=f"course-invitation:{invitation_id}",
    )


def live_invitation(token: str, *, now: datetime | None = None) -> CourseInvitation | None:
    """The invitation behind a link, while it can still be accepted."""
    if not token or len(token) > 100:
        return None
    invitation = db.session.execute(
        select(CourseInvitation).where(CourseInvitation.token_hash == accounts.hash_token(token))
    ).scalar_one_or_none()
    if invitation is None or invitation.accepted_at is not None:
        return None
    if invitation.expires_at <= (now or utcnow()):
        return None
    return invitation


def accept(token: str, learner: User) -> EnrolmentResult:
    """The signed-in person accepts the invitation mailed to their own address."""
    invitation = _open_invitation(token)
    if learner.email != invitation.email:
        raise EnrolmentError(
            _("This invitation was sent to another address. Sign in with that address.")
        )
    accounts.confirm_address(learner)  # they opened the link mailed to it
    if learner.company_id is None and learner.role == Role.LEARNER:
        learner.company_id = invitation.company_id
    return _enrol(invitation, learner)


def accept_with_new_account(
    token: str, *, name: str, password: str, consents: Sequence[str]
) -> User:
    """A person without an account accepts: the account is created, already confirmed
    (the link came to the address), in the inviting company, with the consents they gave
    on the form (the required ones among them; the newsletter's starts its double opt-in)."""
    consent.check_required(consents)
    invitation = _open_invitation(token)
    company = db.session.get(Company, invitation.company_id)
    learner = accounts.create_user(
        email=invitation.email,
        name=name,
        password=password,
        company=company,
        email_verified=True,
    )
    consent.grant_all(learner, consents, source=ConsentSource.INVITATION)
    if consent.NEWSLETTER in consents:
        announcements.subscribe(learner.email)
    _enrol(invitation, learner)
    return learner


def has_account(invitation: CourseInvitation) -> bool:
    """For the invitation page: the person holding the link owns the address, so they
    may learn whether it has an account (to sign in rather than register)."""
    return accounts.find_user(invitation.email) is not None


def _open_invitation(token: str) -> CourseInvitation:
    invitation = live_invitation(token)
    if invitation is None:
        raise EnrolmentError(_("This invitation has expired or was already accepted."))
    return invitation


def _enrol(invitation: CourseInvitation, learner: User) -> EnrolmentResult:
    course = db.session.get(Course, invitation.course_id)
    result = enroll(course, learner, by=learner, source=EnrollmentSource.COMPANY)
    invitation.accepted_at = utcnow()
    invitation.enrollment_id = result.enrollment.id
    invitation.name = learner.name
    db.session.flush()
    return result


def company_invitations(company_id: int, course_id: int) -> list[CourseInvitation]:
    return list(
        db.session.execute(
            select(CourseInvitation)
            .where(
                CourseInvitation.company_id == company_id,
                CourseInvitation.course_id == course_id,
            )
            .order_by(CourseInvitation.created_at.desc(), CourseInvitation.email)
        ).scalars()
    )
