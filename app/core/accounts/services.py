"""Account operations: registration, sign-in, sign-out, password change, user creation."""

from __future__ import annotations

import functools

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app.core import audit
from app.core.accounts.models import Company, Role, User
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
) -> User:
    """Create an account in the current transaction; the caller commits."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )
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
    *, name: str, business_number: str, region: Region, size: CompanySize
) -> Company:
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
    company = Company(name=name.strip(), business_number=number, region=region, size=size)
    db.session.add(company)
    db.session.flush()
    return company


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email)
    if user is None:
        # Hash anyway, so that a failed sign-in takes as long whether or not the e-mail exists.
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.active or not user.check_password(password):
        return None
    return user


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("not a real password", method="scrypt")


def end_all_sessions(user: User) -> None:
    """Sign the user out everywhere: every cookie issued so far stops working."""
    user.rotate_session_token()


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError(_("The current password is not correct."), "current_password")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH),
            "new_password",
        )
    user.set_password(new)
    user.password_changed_at = utcnow()
    user.rotate_session_token()


# --- Password links (invitations and resets) ----------------------------------------------

PASSWORD_LINK_MAX_AGE = 7 * 24 * 3600


def _password_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="set-password")


def password_token(user: User) -> str:
    """A link token that works until used: it is bound to the current password hash."""
    return _password_serializer().dumps({"u": user.id, "h": user.password_hash[-16:]})


def user_for_password_token(token: str) -> User | None:
    try:
        data = _password_serializer().loads(token, max_age=PASSWORD_LINK_MAX_AGE)
    except BadSignature:  # also SignatureExpired
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or user.password_hash[-16:] != data.get("h"):
        return None
    return user


def set_password_with_token(token: str, password: str) -> User:
    user = user_for_password_token(token)
    if user is None:
        raise AccountError(_("This link has expired or was already used."))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH),
            "password",
        )
    user.set_password(password)
    user.password_changed_at = utcnow()
    user.rotate_session_token()
    return user


def queue_password_mail(user: User, *, invitation: bool) -> None:
    """Queue an invitation (new account) or a reset mail with a set-password link."""
    from app.core import outbox

    url = external_url("accounts.set_password", token=password_token(user))
    institute = current_app.config["INSTITUTE_NAME"]
    if invitation:
        subject = _("Your account at %(institute)s", institute=institute)
        body = _(
            "Dear %(name)s,\n\nAn account has been created for you at %(institute)s so that "
            "you can take part in training. Choose your password here (valid for 7 days):\n"
            "%(url)s",
            name=user.name,
            institute=institute,
            url=url,
        )
    else:
        subject = _("Reset your password")
        body = _(
            "Dear %(name)s,\n\nTo choose a new password, open this link (valid for 7 days):\n"
            "%(url)s\n\nIf you did not ask for this, ignore this mail.",
            name=user.name,
            url=url,
        )
    outbox.queue(user.email, subject, body, to_name=user.name)


def request_password_reset(email: str) -> None:
    user = find_user(email)
    if user is not None and user.active:
        queue_password_mail(user, invitation=False)
