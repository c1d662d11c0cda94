"""Consents (standard 10): what a person agreed to, in which version of the text, and when.

The texts of every item and their versions live here and nowhere else. A new wording
gets a new `version`; consents already given keep the version the person saw (the row
says which), and new ones record the new version.

Required items are given once, on the form where the person takes up the account:
registration, a company's sign-up, a company's course invitation accepted with a new
account, or the set-password page of an account the institute made for them (an
on-site training participant). An account made by staff or the command line has none
until its holder opens such a page, as they agreed to nothing; neither has an account
older than these records. A required consent
ends only with the account (`POST /me/delete`). Optional items are given on the same
forms or later on /me, withdrawn and given again there; every change on /me is audited.
What an item switches on (the newsletter) is wired by the composition layer, which knows
the features: this module only keeps the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.accounts.models import Consent, ConsentSource, User
from app.core.errors import DomainError
from app.core.extensions import db
from app.core.timeutil import utcnow

PRIVACY = "privacy"
NEWSLETTER = "newsletter"


@dataclass(frozen=True)
class ConsentItem:
    """One thing a person may agree to, with the text they are shown."""

    key: str
    #: The version of this text; change it whenever the wording below changes.
    version: str
    required: bool
    label: Any
    purposes: Any
    items: Any
    retention: Any
    #: What refusing means for the person.
    refusal: Any


CONSENT_ITEMS: dict[str, ConsentItem] = {
    item.key: item
    for item in (
        ConsentItem(
            key=PRIVACY,
            version="2026-12",
            required=True,
            label=_l("Consent to the collection and use of personal data (required)"),
            purposes=_l(
                "Your account; enrolment, attendance and completion; certificates; course "
                "surveys; notices about the courses you take."
            ),
            items=_l(
                "Name, e-mail address and password (stored only as a hash); phone and "
                "department if you give them; your company if you belong to one."
            ),
            retention=_l(
                "Until you delete your personal data on My page. Certificates already issued "
                "stay verifiable, without your name."
            ),
            refusal=_l("You may refuse, but then we cannot create an account for you."),
        ),
        ConsentItem(
            key=NEWSLETTER,
            version="2026-12",
            required=False,
            label=_l("Consent to receive the newsletter (optional)"),
            purposes=_l("Course announcements by e-mail, a week or more before each course."),
            items=_l("E-mail address."),
            retention=_l("Until you withdraw this consent or unsubscribe from a newsletter mail."),
            refusal=_l("Refusing changes nothing else: you can still enrol in every course."),
        ),
    )
}
REQUIRED_ITEMS = tuple(key for key, item in CONSENT_ITEMS.items() if item.required)
OPTIONAL_ITEMS = tuple(key for key, item in CONSENT_ITEMS.items() if not item.required)


class ConsentError(DomainError):
    """A refused change to a consent, with a message for the person."""


def item(key: str) -> ConsentItem:
    try:
        return CONSENT_ITEMS[key]
    except KeyError:
        raise ConsentError(_("There is no such consent item.")) from None


def standing_consent(user: User, key: str) -> Consent | None:
    return db.session.execute(
        select(Consent).where(
            Consent.user_id == user.id, Consent.item == key, Consent.withdrawn_at.is_(None)
        )
    ).scalar_one_or_none()


def has_consent(user: User, key: str) -> bool:
    return standing_consent(user, key) is not None


def grant(user: User, key: str, *, source: ConsentSource) -> Consent:
    """The person agrees to `key` in its current version; a standing consent stays as it is."""
    text = item(key)
    existing = standing_consent(user, key)
    if existing is not None:
        return existing
    consent = Consent(
        user_id=user.id, item=key, version=text.version, source=source, granted_at=utcnow()
    )
    db.session.add(consent)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # a second request of the same person granted it first
        return standing_consent(user, key)  # type: ignore[return-value]
    if source == ConsentSource.MY_PAGE:
        audit.record("consent.grant", consent, by=user, item=key, version=text.version)
    return consent


def check_required(keys: Iterable[str]) -> None:
    """A form that creates an account goes on only with every required item agreed to
    (the form's own check says so first; this holds for any other caller)."""
    missing = [key for key in REQUIRED_ITEMS if key not in set(keys)]
    if missing:
        raise ConsentError(
            _("Please agree to the required item to continue."), f"consent_{missing[0]}"
        )


def grant_all(user: User, keys: Iterable[str], *, source: ConsentSource) -> list[Consent]:
    """The consents given on a form that creates an account, the required ones among them."""
    keys = list(dict.fromkeys(keys))
    check_required(keys)
    return [grant(user, key, source=source) for key in keys]


def withdraw(user: User, key: str) -> Consent | None:
    """The person withdraws an optional consent; the standing one, now withdrawn, or None
    when there was none. A required consent ends with the account, not here."""
    if item(key).required:
        raise ConsentError(
            _(
                "This consent is needed for your account. To withdraw it, delete your "
                "personal data, which closes the account."
            )
        )
    consent = standing_consent(user, key)
    if consent is None:
        return None
    consent.withdrawn_at = utcnow()
    audit.record("consent.withdraw", consent, by=user, item=key, version=consent.version)
    return consent


def consents_of(user: User) -> list[Consent]:
    """Every consent the person gave, the standing and the withdrawn, newest first."""
    return list(
        db.session.execute(
            select(Consent)
            .where(Consent.user_id == user.id)
            .order_by(Consent.granted_at.desc(), Consent.id.desc())
        ).scalars()
    )


def export(user: User) -> list[dict[str, Any]]:
    return [
        {
            "item": consent.item,
            "label": str(CONSENT_ITEMS[consent.item].label)
            if consent.item in CONSENT_ITEMS
            else consent.item,
            "version": consent.version,
            "source": consent.source.value,
            "granted_at": consent.granted_at.isoformat(),
            "withdrawn_at": None
            if consent.withdrawn_at is None
            else consent.withdrawn_at.isoformat(),
        }
        for consent in consents_of(user)
    ]


def end_all(user: User) -> None:
    """On deletion of the person's data: every standing consent ends now. The rows stay,
    as proof of what was agreed when, tied only to the pseudonymised account."""
    db.session.execute(
        update(Consent)
        .where(Consent.user_id == user.id, Consent.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow())
        .execution_options(synchronize_session=False)
    )
