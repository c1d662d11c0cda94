"""The surveys feature's part of standard 10. Answers were never linked to the person;
only the invitations are personal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from app.core.accounts.models import User
from app.core.extensions import db
from surveys.models import Invitation


def export(user: User) -> dict[str, Any]:
    invitations = db.session.execute(
        select(Invitation).where(Invitation.learner_id == user.id).order_by(Invitation.id)
    ).scalars()
    return {
        "surveys": [
            {
                "kind": i.kind.value,
                "course_id": i.course_id,
                "half": i.half,
                "sent_at": i.sent_at.isoformat(),
                "submitted": i.submitted,
                "answered_on": None if i.answered_on is None else i.answered_on.isoformat(),
                "answers": "anonymous: never linked to you",
            }
            for i in invitations
        ]
    }


def erase(user: User) -> None:
    """Survey links not used yet are deleted (a used one waits for its batch's release day)."""
    db.session.execute(
        delete(Invitation).where(Invitation.learner_id == user.id, Invitation.submitted.is_(False))
    )
