"""Account operations: registration, sign-in, sign-out, password change, user creation."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app.core import audit
from app.core.accounts import consent
from app.core.accounts.models import (
    AccountToken,
    Company,
    ConsentSource,
    Role,
    TokenPurpose,
    User,
)
from app.core.errors import DomainError
from app.core.extensions import db
from app.core.links import external_url
from app.core.timeutil import utcnow
from app.core.vocabulary import CompanySize, Region

MIN_PASSWORD_LENGTH = 10


class AccountError(DomainError):
    """A refused account operation, with a message for the person."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_business_number(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def load_user_by_session_token(token: str) -> User | None:
    return db.session.execute(
        select(User).where(User.session_token == token, User.active.is_(True))
    ).scalar_one_or_none()


def find_user(email: str) -> User | None:
    return db.session.execute(
        select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def create_user(
    *,
    email: str,
    name: str,
    password: str,
    role: Role = Role.LEARNER,
    company: Company | None = None,
    phone: str | None = None,
    department: str | None = None,
    by: User | None = None,
    email_verified: bool = False,
) -> User:
    """Create an account in the current transaction; the caller commits.

    `email_verified`: the address is known to be the person's (staff or the command line
    created the account); otherwise it is confirmed by the first mailed link they open.
    """
    _check_password_length(password, "password")
    if find_user(email) is not None:
        raise AccountError(_("An account with this e-mail address already exists."), "email")
    if role == Role.COMPANY and company is None:
        raise AccountError(_("A company account needs a company."), "company")
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        role=role,
        company=company,
        phone=(phone or "").strip() or None,
        department=(department or "").strip() or None,
        email_verified_at=utcnow() if email_verified else None,
    )
    user.set_password(password)
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:  # a concurrent registration took the address first
        raise AccountError(
            _("An account with this e-mail address already exists."), "email"
        ) from error
    if by is not None:
        audit.record("user.create", user, by=by, email=user.email, role=role.value)
    return user


def find_company(business_number: str) -> Company | None:
    return db.session.execute(
        select(Company).where(Company.business_number == normalise_business_number(business_number))
    ).scalar_one_or_none()


def create_company(
    *,
    name: str,
    business_number: str,
    region: Region,
    size: CompanySize,
    approved: bool = False,
) -> Company:
    """A company; `approved` when staff or the command line create it, otherwise staff
    approve it later (`approve_company`)."""
    number = normalise_business_number(business_number)
    if len(number) != 10:
        raise AccountError(
            _("A business registration number has 10 digits, e.g. 123-45-67890."),
            "business_number",
        )
    if find_company(number) is not None:
        raise AccountError(
            _(
                "This company is already registered. Ask your company's training contact "
                "or the institute to add you."
            ),
            "business_number",
        )
    company = Company(
        name=name.strip(),
        business_number=number,
        region=region,
        size=size,
        approved_at=utcnow() if approved else None,
    )
    db.session.add(company)
    db.session.flush()
    return company


class AccountLocked(AccountError):
    """Too many failed sign-ins in a row: the account waits before it tries passwords again."""


def authenticate(email: str, password: str) -> User | None:
    """The account for this e-mail and password, or None.

    Failed attempts are counted on the account in the database, so the lock holds across
    workers and machines; at LOGIN_MAX_FAILURES in a row the account refuses every
    password, right or wrong, for LOGIN_LOCKOUT, and a good sign-in clears the count.
    The caller commits the count even when it shows an error (see `record_failure`).
    """
    user = find_user(email)
    if user is None:
        # Hash anyway, so that a failed sign-in takes as long whether or not the e-mail exists.
        check_password_hash(_dummy_hash(), password)
        return None
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        check_password_hash(_dummy_hash(), password)
        raise AccountLocked(locked_message())
    if not user.active or not user.check_password(password):
        _count_failure(user, now)
        return None
    user.failed_logins = 0
    user.locked_until = None
    return user


def locked_message() -> str:
    minutes = int(current_app.config["LOGIN_LOCKOUT"] / timedelta(minutes=1))
    return _(
        "Too many failed sign-ins. Try again in %(minutes)d minutes, or reset your password.",
        minutes=minutes,
    )


def _count_failure(user: User, now) -> None:
    # One UPDATE, so that two workers counting at once do not lose a failure.
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user, ["failed_logins"])
    if user.failed_logins >= limit:
        user.locked_until = now + current_app.config["LOGIN_LOCKOUT"]
        user.failed_logins = 0
    db.session.flush()


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("not a real password", method="scrypt")


def end_all_sessions(user: User) -> None:
    """Sign the user out everywhere: every cookie issued so far stops working."""
    user.rotate_session_token()


def update_profile(user: User, *, name: str, phone: str | None, department: str | None) -> None:
    """A person's own correction of their name and contact details. Certificates issued
    from now on carry the new name; those already issued keep the one they were issued in
    (staff reissue one on request)."""
    changed = {
        field: value
        for field, value in (
            ("name", name),
            ("phone", phone or None),
            ("department", department or None),
        )
        if getattr(user, field) != value
    }
    for field, value in changed.items():
        setattr(user, field, value)
    if changed:
        audit.record("user.profile", user, by=user, fields=sorted(changed))


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError(_("The current password is not correct."), "current_password")
    _check_password_length(new, "new_password")
    _set_new_password(user, new)


def _check_password_length(password: str, field: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH),
            field,
        )


def _set_new_password(user: User, password: str) -> None:
    """A new password signs out every session and lifts a sign-in lock."""
    user.set_password(password)
    user.password_changed_at = utcnow()
    user.rotate_session_token()
    user.failed_logins = 0
    user.locked_until = None


# --- Mailed links: password invitations and resets, address confirmation ----------------


def issue_token(user: User, purpose: TokenPurpose) -> str:
    """A new opaque link token for `purpose`; the user's older unused ones of the same
    purpose stop working, so only the latest mail's link opens."""
    db.session.execute(
        delete(AccountToken).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
    )
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + purpose.lifetime,
        )
    )
    db.session.flush()
    return token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _live_token(token: str, purposes: tuple[TokenPurpose, ...]) -> AccountToken | None:
    if not token or len(token) > 100:
        return None
    row = db.session.execute(
        select(AccountToken).where(AccountToken.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if row is None or row.purpose not in purposes or row.used_at is not None:
        return None
    if row.expires_at <= utcnow():
        return None
    return row


def _spend(token: str, purposes: tuple[TokenPurpose, ...]) -> User:
    """Use a token once. The conditional UPDATE lets exactly one of two racing requests
    spend it; the other finds it used."""
    row = _live_token(token, purposes)
    user = db.session.get(User, row.user_id) if row is not None else None
    spent = (
        db.session.execute(
            update(AccountToken)
            .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if row is not None
        else 0
    )
    if user is None or not user.active or spent != 1:
        raise AccountError(_("This link has expired or was already used."))
    return user


PASSWORD_PURPOSES = (TokenPurpose.RESET_PASSWORD, TokenPurpose.INVITATION)


def user_for_password_token(token: str) -> User | None:
    """The person a set-password link is for, while the link is unused and unexpired."""
    row = _live_token(token, PASSWORD_PURPOSES)
    user = db.session.get(User, row.user_id) if row is not None else None
    return user if user is not None and user.active else None


def password_token_purpose(token: str) -> TokenPurpose | None:
    """Whether a live set-password link is an invitation to a new account or a reset."""
    row = _live_token(token, PASSWORD_PURPOSES)
    return row.purpose if row is not None else None


def set_password_with_token(token: str, password: str) -> User:
    """Set the password from a mailed link; the link also confirms the address."""
    _check_password_length(password, "password")
    user = _spend(token, PASSWORD_PURPOSES)
    _set_new_password(user, password)
    confirm_address(user)
    return user


def confirm_email_with_token(token: str) -> User:
    user = _spend(token, (TokenPurpose.VERIFY_EMAIL,))
    confirm_address(user)
    return user


def email_token_is_live(token: str) -> bool:
    return _live_token(token, (TokenPurpose.VERIFY_EMAIL,)) is not None


def confirm_address(user: User) -> None:
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()


def queue_password_mail(user: User, *, invitation: bool) -> None:
    """Queue an invitation (new account, 7 days) or a reset mail (1 hour) with a
    set-password link."""
    from app.core import outbox

    purpose = TokenPurpose.INVITATION if invitation else TokenPurpose.RESET_PASSWORD
    url = external_url("accounts.set_password", token=issue_token(user, purpose))
    if invitation:
        kind = "account_invitation"
        subject = _("Your account at %(institute)s", institute=current_app.config["INSTITUTE_NAME"])
    else:
        kind = "password_reset"
        subject = _("Reset your password")
    outbox.queue(user.email, subject, kind, context={"url": url}, to_name=user.name)


def queue_confirmation_mail(user: User, next_url: str | None = None) -> None:
    """The link that confirms a self-registered address (and signs the person in, then
    takes them to `next_url`, the page they registered from)."""
    from app.core import outbox

    token = issue_token(user, TokenPurpose.VERIFY_EMAIL)
    extra = {"next": next_url} if next_url else {}
    url = external_url("accounts.confirm_email", token=token, **extra)
    outbox.queue(
        user.email,
        _("Confirm your e-mail address"),
        "email_confirm",
        context={"url": url},
        to_name=user.name,
    )


def _queue_existing_account_notice(user: User) -> None:
    """Somebody registered with an address that has an account: tell its owner, and
    nobody else (the registration page answers the same either way)."""
    from app.core import outbox

    outbox.queue(
        user.email,
        _("Someone tried to register with your address"),
        "account_exists",
        context={"url": external_url("accounts.login")},
        to_name=user.name,
    )


def request_password_reset(email: str) -> None:
    user = find_user(email)
    if user is not None and user.active:
        queue_password_mail(user, invitation=False)


def register(
    *,
    email: str,
    consents: Sequence[str],
    next_url: str | None = None,
    **fields: str | None,
) -> User | None:
    """Self-registration: create an unconfirmed account, record the consents given on the
    form (the required ones among them) and mail the confirmation link.

    The caller shows the same "check your mail" answer whether or not the address had an
    account already (then its owner is told instead), so the page reveals nothing.
    Returns the new account, or None when the address was taken.
    """
    consent.check_required(consents)
    if _address_taken(email):
        return None
    try:
        user = create_user(email=email, **fields)  # type: ignore[arg-type]
    except AccountError as error:
        if error.field == "email":  # a concurrent registration took it first
            return None
        raise
    consent.grant_all(user, consents, source=ConsentSource.REGISTRATION)
    queue_confirmation_mail(user, next_url)
    return user


def register_company(
    *,
    company_name: str,
    business_number: str,
    region: Region,
    size: CompanySize,
    email: str,
    consents: Sequence[str],
    **fields: str | None,
) -> User | None:
    """A company's training contact registers the company and their own (unconfirmed)
    account, with the consents given on the form; staff approve the company before it may
    enrol people or request visits."""
    consent.check_required(consents)
    if _address_taken(email):
        return None
    company = create_company(
        name=company_name, business_number=business_number, region=region, size=size
    )
    user = create_user(email=email, role=Role.COMPANY, company=company, **fields)  # type: ignore[arg-type]
    consent.grant_all(user, consents, source=ConsentSource.REGISTRATION)
    queue_confirmation_mail(user)
    return user


def _address_taken(email: str) -> bool:
    existing = find_user(email)
    if existing is not None and existing.active:
        _queue_existing_account_notice(existing)
    return existing is not None


def approve_company(company: Company, *, by: User) -> None:
    if company.approved_at is None:
        company.approved_at = utcnow()
        audit.record("company.approve", company, by=by, name=company.name)


def companies_awaiting_approval() -> list[Company]:
    return list(
        db.session.execute(
            select(Company).where(Company.approved_at.is_(None)).order_by(Company.created_at)
        ).scalars()
    )
