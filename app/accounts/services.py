"""Account operations: registration, sign-in, sign-out, password change, user creation."""

from __future__ import annotations

import functools

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app import audit
from app.accounts.models import Company, Role, User
from app.extensions import db
from app.timeutil import utcnow
from app.vocabulary import CompanySize, Region

MIN_PASSWORD_LENGTH = 10


class AccountError(Exception):
    """A refused account operation, with a message for the person."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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
    db.session.commit()


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
    db.session.commit()
