"""The on-site training and CP mentoring feature's part of standard 10.

A request or a mentoring case belongs to the company and stays, with its head count; where
the person was its contact, the contact's name, phone and address are replaced (staff ask
the company for a new contact). Sign-ups keep their place in the head count without name,
address or department. Mentions of the person in the free text of requests, cases, visit
reports and quotes are scrubbed.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, or_, select, update

from app.core.accounts.models import DELETED_NAME, User
from app.core.erasure import ERASED_ADDRESS, Person, scrub_columns
from app.core.extensions import db
from visits.models import (
    CaseChecklistEntry,
    FollowUpAction,
    MentoringCase,
    MentoringVisit,
    OnsiteRequest,
    Quote,
    Signup,
)

_CONTACT = ["contact_name", "contact_phone"]
#: Free text where a person may be named (columns this feature owns).
FREE_TEXT = {
    OnsiteRequest: [
        "title",
        "content",
        "topics",
        "preferred_dates",
        "address",
        "notes",
        "decline_reason",
        *_CONTACT,
    ],
    Signup: ["name", "department"],
    Quote: ["items"],
    MentoringCase: ["preferred_dates", "notes", *_CONTACT],
    MentoringVisit: ["attendees", "topics", "findings"],
    FollowUpAction: ["description"],
    CaseChecklistEntry: ["notes"],
}


def export(user: User) -> dict[str, Any]:
    signups = db.session.execute(select(Signup).where(Signup.email == user.email)).scalars()
    return {
        "onsite_signups": [
            {
                "request_id": s.request_id,
                "name": s.name,
                "department": s.department,
                "signed_up_at": s.created_at.isoformat(),
            }
            for s in signups
        ]
    }


def erase(user: User) -> None:
    """See the module's docstring."""
    person = Person.of(user)
    _erase_signups(user)
    for model in (OnsiteRequest, MentoringCase):
        _erase_contact(model, person)
    for model, columns in FREE_TEXT.items():
        scrub_columns(model, columns, person)


def _erase_signups(user: User) -> None:
    """One UPDATE per row: the address is unique per request, so each gets its own."""
    address = user.email.strip().lower()
    ids = db.session.execute(
        select(Signup.id).where(or_(func.lower(Signup.email) == address, Signup.user_id == user.id))
    ).scalars()
    for signup_id in ids.all():
        db.session.execute(
            update(Signup)
            .where(Signup.id == signup_id)
            .values(
                name=DELETED_NAME,
                email=f"deleted-{secrets.token_hex(6)}@deleted.invalid",
                department="",
            ),
            execution_options={"synchronize_session": False},
        )


def _erase_contact(model: type[OnsiteRequest] | type[MentoringCase], person: Person) -> None:
    """Where the person's address is the contact's, the whole contact goes."""
    db.session.execute(
        update(model)
        .where(func.lower(model.contact_email) == person.email.strip().lower())
        .values(contact_name=person.placeholder, contact_phone="", contact_email=ERASED_ADDRESS),
        execution_options={"synchronize_session": False},
    )
