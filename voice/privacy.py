"""The voice desk's part of standard 10.

A person's items are those linked to their account or filed with their e-mail address.
The export gives them with their whole thread. Erasure scrubs the filer's name, address
and phone and every text of those items (subject, message, replies, follow-ups, the
decision or measures), and keeps what the standard's figures count: kind, state and
times. Mentions of the person in other people's items are replaced by the placeholder.
"""

from __future__ import annotations

from typing import Any

from app.core.accounts.models import User
from app.core.erasure import Person, scrub_columns
from voice import services
from voice.models import VoiceItem, VoiceMessage

#: Free text of other people's items where the person may be named.
FREE_TEXT = {
    VoiceItem: ["subject", "message", "name", "phone", "resolution"],
    VoiceMessage: ["body"],
}


def export(user: User) -> dict[str, Any]:
    return {
        "voice_items": [
            {
                "kind": item.kind.value,
                "state": item.state.value,
                "subject": item.subject,
                "message": item.message,
                "name": item.name,
                "email": item.email,
                "phone": item.phone,
                "filed_at": item.filed_at.isoformat(),
                "consented_at": item.consented_at.isoformat(),
                "first_reply_at": item.first_reply_at.isoformat() if item.first_reply_at else None,
                "outcome": item.outcome.value if item.outcome else None,
                "resolution": item.resolution,
                "messages": [
                    {
                        "from_staff": message.from_staff,
                        "interim": message.interim,
                        "body": message.body,
                        "at": message.created_at.isoformat(),
                    }
                    for message in item.messages
                ],
            }
            for item in services.items_with_thread(services.items_of(user))
        ]
    }


def erase(user: User) -> None:
    """See the module's docstring."""
    services.scrub_items(services.items_of(user))
    person = Person.of(user)
    for model, columns in FREE_TEXT.items():
        scrub_columns(model, columns, person)
