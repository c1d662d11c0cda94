"""Users, their roles and the companies they belong to."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.extensions import db, enum_type
from app.core.timeutil import UTCDateTime, utcnow
from app.core.vocabulary import CompanySize, Region

#: The name that replaces a person's wherever it was copied, once they had their data deleted.
DELETED_NAME = "탈퇴 회원"


class Role(enum.StrEnum):
    LEARNER = "learner"
    COMPANY = "company"
    INSTRUCTOR = "instructor"
    STAFF = "staff"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.LEARNER: _l("Learner"),
    Role.COMPANY: _l("Company training contact"),
    Role.INSTRUCTOR: _l("Instructor"),
    Role.STAFF: _l("Education staff"),
}


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class Company(db.Model):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Business registration number (사업자등록번호), digits only, 10 long.
    business_number: Mapped[str] = mapped_column(String(10), unique=True)
    region: Mapped[Region] = mapped_column(enum_type(Region))
    size: Mapped[CompanySize] = mapped_column(enum_type(CompanySize))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when staff approved the company: only then may its contact enrol employees in
    #: bulk or request on-site training (anyone can register a company). Who approved
    #: it is in the audit log.
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    members: Mapped[list[User]] = relationship(back_populates="company", lazy="raise")

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    __table_args__ = (
        CheckConstraint("length(business_number) = 10", name="business_number_length"),
    )


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased, so uniqueness ignores case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))
    department: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(enum_type(Role), default=Role.LEARNER)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Identifies the user's live sessions; rotated on logout and password change,
    #: which makes every cookie issued before that useless.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    active: Mapped[bool] = mapped_column(default=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set once the person opened the link mailed to the address (or staff created the
    #: account); a learner enrols only with a confirmed address.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Failed sign-ins since the last good one; at LOGIN_MAX_FAILURES the account locks
    #: until `locked_until`. Kept in the database, so every worker and machine agrees.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    company: Mapped[Company | None] = relationship(back_populates="members", lazy="joined")

    __table_args__ = (
        CheckConstraint("role IN ('learner', 'company', 'instructor', 'staff')", name="role_known"),
    )

    # Flask-Login protocol. The session stores the rotating token, never the id.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def set_password(self, password: str) -> None:
        # scrypt (werkzeug's default): memory-hard, salted.
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    @property
    def is_staff(self) -> bool:
        return self.role == Role.STAFF

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class TokenPurpose(enum.StrEnum):
    """What a mailed link lets its holder do, and for how long."""

    RESET_PASSWORD = "reset_password"
    INVITATION = "invitation"
    VERIFY_EMAIL = "verify_email"

    @property
    def lifetime(self) -> timedelta:
        return TOKEN_LIFETIMES[self]


TOKEN_LIFETIMES = {
    TokenPurpose.RESET_PASSWORD: timedelta(hours=1),
    TokenPurpose.INVITATION: timedelta(days=7),
    TokenPurpose.VERIFY_EMAIL: timedelta(days=7),
}


class AccountToken(db.Model):
    """A link mailed to a person: only its SHA-256 is stored, it works once, and it
    expires. The link itself is an opaque random value and carries nothing."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_type(TokenPurpose))
    #: Hex SHA-256 of the token in the link; a database leak yields no usable link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsentSource(enum.StrEnum):
    """Where the person gave a consent: every one is a form they submitted themselves."""

    REGISTRATION = "registration"
    INVITATION = "invitation"
    MY_PAGE = "my_page"


class Consent(db.Model):
    """One consent a person gave to one item of processing, in one version of its text
    (`app.core.accounts.consent` holds the texts). Withdrawing sets `withdrawn_at`; granting
    again adds a new row, so the rows are the history that proves what was agreed when."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Which item: a key of `consent.CONSENT_ITEMS` ("privacy", "newsletter").
    item: Mapped[str] = mapped_column(String(40))
    #: The version of the item's text the person saw and agreed to, e.g. "2026-01".
    version: Mapped[str] = mapped_column(String(20))
    source: Mapped[ConsentSource] = mapped_column(enum_type(ConsentSource))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when the person withdrew the consent (or had their data deleted).
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(
            "withdrawn_at IS NULL OR withdrawn_at >= granted_at", name="withdrawn_after_granted"
        ),
        CheckConstraint("source IN ('registration', 'invitation', 'my_page')", name="source_known"),
        #: At most one standing consent per person and item.
        Index(
            "uq_consents_standing",
            "user_id",
            "item",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )
