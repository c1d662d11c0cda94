"""Issuing, rendering, revoking and verifying certificates."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import segno
from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from app.core import audit
from app.core.accounts.models import Role, User
from app.core.errors import DomainError
from app.core.extensions import db, insert_ignoring_conflicts
from app.core.links import external_url
from app.core.pdf import render_pdf_from_html
from app.core.timeutil import to_local, utcnow
from certificates.models import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CODE_PATTERN,
    Certificate,
    CertificateStatus,
    SerialCounter,
)

SERIAL_PATTERN = re.compile(r"^\d{4}-\d{7}$")


class CertificateError(DomainError):
    """A refused operation in certificates, with a message for the person."""


@dataclass(frozen=True)
class CertificateFacts:
    """What a certificate certifies, copied in when it is issued.

    The courses feature decides *whether* an enrolment has a certificate
    (`courses.attendance.settle_certificate`) and hands over these facts; this package
    knows no course or enrolment model.
    """

    enrollment_id: int
    learner_id: int
    holder_name: str
    course_id: int
    course_title: str
    course_start: date
    course_end: date
    hours: Decimal


def valid_certificate(enrollment_id: int) -> Certificate | None:
    return db.session.execute(
        select(Certificate).where(
            Certificate.enrollment_id == enrollment_id,
            Certificate.status == CertificateStatus.VALID,
        )
    ).scalar_one_or_none()


# --- Issuing -----------------------------------------------------------------------------


def next_serial(year: int) -> str:
    """The next serial of the year; one UPDATE ... RETURNING, so racing issuers never share one."""
    db.session.execute(
        insert_ignoring_conflicts(SerialCounter.__table__, on=["year"]).values(
            year=year, last_number=0
        )
    )
    number = db.session.execute(
        update(SerialCounter)
        .where(SerialCounter.year == year)
        .values(last_number=SerialCounter.last_number + 1)
        .returning(SerialCounter.last_number)
    ).scalar_one()
    return f"{year}-{number:07d}"


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def issue(facts: CertificateFacts, *, issuer: User | None, by: User | None = None) -> Certificate:
    """The enrolment's valid certificate: the existing one, or a new one.

    `issuer` is the staff member named on the document (standard 11); `by` the person
    acting, audited when staff. Only flushes; the caller's action commits.
    """
    existing = valid_certificate(facts.enrollment_id)
    if existing is not None:
        return existing
    certificate = _new_certificate(facts, issuer)
    try:
        # A savepoint, so that losing the race below undoes only this insert.
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:  # a concurrent action issued it first (the partial unique index)
        return valid_certificate(facts.enrollment_id)
    if by is not None and by.role == Role.STAFF:
        audit.record("certificate.issue", certificate, by=by, serial=certificate.serial)
    return certificate


def withdraw(enrollment_id: int, reason: str, *, by: User | None) -> Certificate | None:
    """Revoke the enrolment's valid certificate, if any, because what it certified no longer
    holds (completion withdrawn). The verify page then says revoked, with this reason."""
    certificate = valid_certificate(enrollment_id)
    if certificate is not None:
        _mark_revoked(certificate, reason, by=by)
        audit.record(
            "certificate.withdraw", certificate, by=by, serial=certificate.serial, reason=reason
        )
    return certificate


def _new_certificate(facts: CertificateFacts, issuer: User | None) -> Certificate:
    return Certificate(
        enrollment_id=facts.enrollment_id,
        learner_id=facts.learner_id,
        course_id=facts.course_id,
        serial=next_serial(to_local(utcnow()).year),
        verification_code=new_verification_code(),
        status=CertificateStatus.VALID,
        holder_name=facts.holder_name,
        course_title=facts.course_title,
        course_start=facts.course_start,
        course_end=facts.course_end,
        hours=facts.hours,
        issued_at=utcnow(),
        issued_by_id=issuer.id if issuer else None,
        issued_by_name=issuer.name if issuer else current_app.config["INSTITUTE_NAME"],
    )


# --- Revoking and reissuing ----------------------------------------------------------------


def _mark_revoked(certificate: Certificate, reason: str, *, by: User | None) -> None:
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = by.id if by is not None else None
    certificate.revoke_reason = reason.strip()
    db.session.flush()


def revoke(certificate: Certificate, reason: str, *, by: User) -> None:
    if not reason.strip():
        raise CertificateError(_("Give a reason for revoking the certificate."))
    if not certificate.is_valid:
        raise CertificateError(_("This certificate is already revoked."))
    _mark_revoked(certificate, reason, by=by)
    audit.record("certificate.revoke", certificate, by=by, serial=certificate.serial, reason=reason)


def reissue(certificate: Certificate, reason: str, *, by: User) -> Certificate:
    """Replace a certificate (a corrected name, say): the old one is revoked, a new one
    issued with the same course facts and the holder's current name."""
    if not reason.strip():
        raise CertificateError(_("Give a reason for reissuing the certificate."))
    if not certificate.is_valid:
        raise CertificateError(_("Only a valid certificate can be reissued."))
    holder = db.session.get(User, certificate.learner_id)
    facts = CertificateFacts(
        enrollment_id=certificate.enrollment_id,
        learner_id=certificate.learner_id,
        holder_name=holder.name,
        course_id=certificate.course_id,
        course_title=certificate.course_title,
        course_start=certificate.course_start,
        course_end=certificate.course_end,
        hours=certificate.hours,
    )
    _mark_revoked(certificate, reason, by=by)
    replacement = _new_certificate(facts, by)
    db.session.add(replacement)
    db.session.flush()
    certificate.replaced_by_id = replacement.id
    audit.record(
        "certificate.reissue",
        replacement,
        by=by,
        replaces=certificate.serial,
        serial=replacement.serial,
        reason=reason.strip(),
    )
    return replacement


# --- Rendering ---------------------------------------------------------------------------


def verify_url(certificate: Certificate) -> str:
    return external_url("certificates.verify", code=certificate.verification_code)


def qr_png(url: str) -> str:
    """The QR code as a PNG data URI, one pixel per module: the template scales it up
    without smoothing (an inline SVG would be parsed and drawn in Python on every page).
    The mask is fixed: scanners read any of the eight, and scoring all of them to pick
    one took 4 ms of each certificate's 30."""
    return segno.make(url, error="m", mask=0).png_data_uri(scale=1, border=2)


def certificate_html(certificates: list[Certificate]) -> str:
    urls = [verify_url(certificate) for certificate in certificates]
    return render_template(
        "certificates/certificate.html",
        pages=[(c, url, qr_png(url)) for c, url in zip(certificates, urls, strict=True)],
        institute=current_app.config["INSTITUTE_NAME"],
    )


def render(certificates: list[Certificate]) -> bytes:
    """One PDF holding the given certificates, one per page, in a single WeasyPrint pass."""
    return render_pdf_from_html(certificate_html(certificates))


def pdf_bytes(certificate: Certificate) -> bytes:
    """The stored PDF; the first call renders and stores it."""
    stored = db.session.execute(
        select(Certificate.pdf).where(Certificate.id == certificate.id)
    ).scalar_one()
    if stored is not None:
        return stored
    data = render([certificate])
    # The document is immutable once rendered, and downloads are GET requests whose own
    # transaction is rolled back: the first render is stored in a short transaction of its
    # own, which must be visible to every later download. Whoever stores first wins.
    with db.engine.begin() as connection:
        connection.execute(
            update(Certificate)
            .where(Certificate.id == certificate.id, Certificate.pdf.is_(None))
            .values(pdf=data, pdf_sha256=hashlib.sha256(data).hexdigest())
        )
        return connection.execute(
            select(Certificate.pdf).where(Certificate.id == certificate.id)
        ).scalar_one()


def course_certificates(course_id: int) -> list[Certificate]:
    return list(
        db.session.execute(
            select(Certificate)
            .where(
                Certificate.course_id == course_id, Certificate.status == CertificateStatus.VALID
            )
            .order_by(Certificate.holder_name, Certificate.serial)
        ).scalars()
    )


#: Revoked certificates a course page lists: their history, newest first.
REVOKED_SHOWN = 200


@dataclass(frozen=True)
class RevokedCertificate:
    certificate: Certificate
    #: The serial of the certificate that replaced it on reissue, if any.
    replaced_by: str | None


def revoked_certificates(course_id: int) -> list[RevokedCertificate]:
    """A course's revoked certificates with when, why and what replaced them, for staff:
    a revocation is part of the record, never hidden."""
    replacement = aliased(Certificate)
    rows = db.session.execute(
        select(Certificate, replacement.serial)
        .outerjoin(replacement, replacement.id == Certificate.replaced_by_id)
        .where(Certificate.course_id == course_id, Certificate.status == CertificateStatus.REVOKED)
        .order_by(Certificate.revoked_at.desc(), Certificate.serial)
        .limit(REVOKED_SHOWN)
    ).all()
    return [RevokedCertificate(certificate, serial) for certificate, serial in rows]


def bulk_zip(certificates: list[Certificate]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PDFs are compressed
        for certificate in certificates:
            archive.writestr(f"{certificate.serial}.pdf", pdf_bytes(certificate))
    return buffer.getvalue()


# --- Looking up and verifying --------------------------------------------------------------


def by_serial(serial: str) -> Certificate | None:
    if not SERIAL_PATTERN.match(serial):
        return None
    return db.session.execute(
        select(Certificate).where(Certificate.serial == serial)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class Verification:
    state: str  # "valid", "revoked", "unknown", "malformed"
    certificate: Certificate | None = None


def verify(code: str) -> Verification:
    code = code.strip().upper()
    if not CODE_PATTERN.match(code):
        return Verification("malformed")
    certificate = db.session.execute(
        select(Certificate).where(Certificate.verification_code == code)
    ).scalar_one_or_none()
    if certificate is None:
        return Verification("unknown")
    return Verification(certificate.status.value, certificate)


def mask_name(name: str) -> str:
    """Mask a name the Korean way: 홍길동 → 홍*동, 김수 → 김*, 남궁민수 → 남**수."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def certificates_of(learner: User) -> list[Certificate]:
    return list(
        db.session.execute(
            select(Certificate)
            .where(
                Certificate.learner_id == learner.id, Certificate.status == CertificateStatus.VALID
            )
            .order_by(Certificate.issued_at.desc())
        ).scalars()
    )
