"""Standard 10: a person sees all their personal data and can have it deleted.

The registry: each feature exports and erases its own data (`<feature>/privacy.py`);
this module asks each of them in turn, then the core's mail outbox and audit log, and
handles the account itself. Deletion removes or scrubs what identifies the person
wherever it was copied: the account is pseudonymised and disabled (its rows stay, so
course statistics and other people's records hold together), upcoming seats are released
to the waiting list, pending survey links, newsletter subscriptions, invitations and
account links are deleted, mail to the person loses recipient and body, and the person's
name, e-mail address and phone are replaced by "탈퇴 회원 #<id>" in audit details and in
the texts of other rows (`app.core.erasure` says what counts as a mention). Survey answers
were never linked to the person. Certificates already issued stay verifiable without the
holder's name, as the institute must keep what it certified.

Consent records (`app.core.accounts.consent`) are exported with the account. Deletion
ends every standing consent at that moment and keeps the rows: they are the proof of
what was agreed to, in which version of the text and when, and they hold nothing that
identifies the person beyond the account they belong to, which is pseudonymised.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete

import certificates.privacy
import courses.privacy
import surveys.privacy
import visits.privacy
import voice.privacy
from app.core import audit, outbox
from app.core.accounts import consent
from app.core.accounts.models import DELETED_NAME, AccountToken, Role, User
from app.core.accounts.services import AccountError
from app.core.erasure import Person
from app.core.extensions import db
from app.core.timeutil import utcnow

#: Every feature that holds personal data; each one exports and erases its own.
FEATURES = (
    courses.privacy,
    certificates.privacy,
    surveys.privacy,
    visits.privacy,
    voice.privacy,
)


def personal_data(user: User) -> dict[str, Any]:
    """Everything the system holds about the person, as JSON-ready data."""
    data: dict[str, Any] = {
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
    }
    data["consents"] = consent.export(user)
    for feature in FEATURES:
        data.update(feature.export(user))
    return data


def delete_personal_data(user: User, password: str) -> None:
    """Erase the person's data in every feature, then pseudonymise the account; one action."""
    if not user.check_password(password):
        raise AccountError(_("The password is not correct."), "password")
    if user.role == Role.STAFF:
        raise AccountError(_("Staff accounts are closed by the institute's administrator."))
    person = Person.of(user)
    for feature in FEATURES:  # before the account changes: some match by e-mail address
        feature.erase(user)
    outbox.erase_recipient(person)
    audit.scrub(person)
    consent.end_all(user)
    db.session.execute(delete(AccountToken).where(AccountToken.user_id == user.id))
    user.name = DELETED_NAME
    user.email = f"deleted-{user.id}-{secrets.token_hex(4)}@deleted.invalid"
    user.phone = user.department = None
    user.set_password(secrets.token_urlsafe(32))
    user.active = False
    user.rotate_session_token()
    audit.record("user.delete_personal_data", user, by=user)
