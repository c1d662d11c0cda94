"""Completion certificates and their serial numbers."""

from __future__ import annotations

import enum
import re
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, LargeBinary, Numeric, String, text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.core.accounts.models import User
from app.core.extensions import db, enum_type
from app.core.timeutil import UTCDateTime, utcnow

#: Verification codes: 80 bits, not guessable, short enough to type from paper; letters and
#: digits that cannot be mistaken for one another (no I, O, 0, 1).
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16
CODE_PATTERN = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


class CertificateStatus(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return str(CERTIFICATE_STATUS_LABELS[self])


CERTIFICATE_STATUS_LABELS = {
    CertificateStatus.VALID: _l("Valid"),
    CertificateStatus.REVOKED: _l("Revoked"),
}


class Certificate(db.Model):
    """A certificate of completion. What it certifies is copied in when it is issued, so
    the document stays as issued even if the course or the holder's account changes."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="RESTRICT"))
    #: Readable and unique, printed on the document: "2026-0001234".
    serial: Mapped[str] = mapped_column(String(20), unique=True)
    #: Unguessable, in the QR code and the verification URL; separate from the serial.
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[CertificateStatus] = mapped_column(
        enum_type(CertificateStatus), default=CertificateStatus.VALID
    )
    holder_name: Mapped[str] = mapped_column(String(100))
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="RESTRICT"), index=True
    )
    course_title: Mapped[str] = mapped_column(String(200))
    course_start: Mapped[date] = mapped_column(Date)
    course_end: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The staff member responsible for the document (charter standard 11), by name as
    #: printed, and by account.
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_by_name: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
    #: The certificate that replaced this one on reissue.
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates.id", ondelete="SET NULL")
    )
    #: The PDF as first rendered; later downloads serve these very bytes.
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))

    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    learner: Mapped[User] = relationship(foreign_keys=[learner_id], lazy="raise")

    __table_args__ = (
        # One valid certificate per completed enrolment; a reissue revokes the old one first.
        Index(
            "uq_certificates_valid_enrollment",
            "enrollment_id",
            unique=True,
            sqlite_where=text("status = 'valid'"),
            postgresql_where=text("status = 'valid'"),
        ),
    )

    @property
    def is_valid(self) -> bool:
        return self.status == CertificateStatus.VALID


class SerialCounter(db.Model):
    """The last serial number handed out in a year; bumped with a single UPDATE."""

    __tablename__ = "certificate_serials"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)
