"""The surveys feature's part of standard 10. Answers were never linked to the person;
only the invitations are personal.

Answers stay, for the statistics; a comment that names the person (a learner writing about
an instructor who later had their data deleted, say) is scrubbed where it does, as are the
minutes of instructor meetings. Answers still sealed in the pending box cannot be read
until their group is released, and are not reached here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from app.core.accounts.models import User
from app.core.erasure import Person, scrub_columns
from app.core.extensions import db
from surveys.models import Answer, InstructorMeeting, Invitation

#: Free text where a person may be named (columns this feature owns).
FREE_TEXT = {
    Answer: ["text"],
    InstructorMeeting: ["title", "other_attendees", "agenda", "minutes", "decisions"],
}


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
    """Survey links not used yet are deleted (a used one waits for its batch's release day);
    mentions in comments and meeting minutes are scrubbed."""
    db.session.execute(
        delete(Invitation).where(Invitation.learner_id == user.id, Invitation.submitted.is_(False))
    )
    person = Person.of(user)
    for model, columns in FREE_TEXT.items():
        scrub_columns(model, columns, person)
