"""Issuing, rendering, revoking and verifying certificates."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import zipfile
from dataclasses import dataclass

import segno
from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.accounts.models import Role, User
from app.core.errors import DomainError
from app.core.extensions import db, insert_ignoring_conflicts
from app.core.links import external_url
from app.core.pdf import render_pdf_from_html
from app.core.timeutil import to_local, utcnow
from certificates.models import Certificate, CertificateStatus, SerialCounter
from courses.models import Course, Enrollment

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16  # 80 bits: not guessable, short enough to type from paper
CODE_PATTERN = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
SERIAL_PATTERN = re.compile(r"^\d{4}-\d{7}$")


class CertificateError(DomainError):
    """A refused operation in certificates, with a message for the person."""


class SurveyPending(CertificateError):
    """The course asks for its post-course survey before the certificate."""


# --- Who may have one --------------------------------------------------------------------


def refusal(enrollment: Enrollment, course: Course) -> CertificateError | None:
    """Why this enrolment cannot have a certificate yet, or None when it can.

    The survey gate: a course that requires its post-course survey issues the certificate
    once the learner has submitted it (`Enrollment.survey_submitted`, which the surveys
    package sets on submission). A course without a survey issues at once.
    """
    if not enrollment.completed:
        return CertificateError(_("A certificate is issued once the course is completed."))
    if course.requires_survey and not enrollment.survey_submitted:
        return SurveyPending(
            _("Please answer the course survey first; your certificate is issued right after.")
        )
    return None


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


def issue(enrollment: Enrollment, *, by: User | None = None) -> Certificate:
    """The enrolment's certificate: the existing valid one, or a new one."""
    existing = valid_certificate(enrollment.id)
    if existing is not None:
        return existing
    course = db.session.get(Course, enrollment.course_id)
    problem = refusal(enrollment, course)
    if problem is not None:
        raise problem
    issuer = by if by is not None and by.role == Role.STAFF else _closing_staff(course)
    certificate = _new_certificate(enrollment, course, issuer)
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:  # a concurrent request issued it first
        db.session.rollback()
        return valid_certificate(enrollment.id)
    if by is not None and by.role == Role.STAFF:
        audit.record("certificate.issue", certificate, by=by, serial=certificate.serial)
    db.session.commit()
    return certificate


def _closing_staff(course: Course) -> User | None:
    """The staff member who recorded completion answers for certificates issued from it."""
    return db.session.get(User, course.closed_by_id) if course.closed_by_id else None


def _new_certificate(enrollment: Enrollment, course: Course, issuer: User | None) -> Certificate:
    learner = db.session.get(User, enrollment.learner_id)
    return Certificate(
        enrollment_id=enrollment.id,
        learner_id=learner.id,
        course_id=course.id,
        serial=next_serial(to_local(utcnow()).year),
        verification_code=new_verification_code(),
        status=CertificateStatus.VALID,
        holder_name=learner.name,
        course_title=course.title,
        course_start=to_local(course.starts_at).date(),
        course_end=to_local(course.ends_at).date(),
        hours=course.hours,
        issued_at=utcnow(),
        issued_by_id=issuer.id if issuer else None,
        issued_by_name=issuer.name if issuer else current_app.config["INSTITUTE_NAME"],
    )


def issue_for_course(course: Course, *, by: User | None) -> int:
    """Issue every certificate of the course that is ready; returns how many are new."""
    completed = (
        db.session.execute(
            select(Enrollment).where(
                Enrollment.course_id == course.id, Enrollment.completed.is_(True)
            )
        )
        .scalars()
        .all()
    )
    issued = 0
    for enrollment in completed:
        if valid_certificate(enrollment.id) is None and refusal(enrollment, course) is None:
            issue(enrollment, by=by)
            issued += 1
    return issued


# --- Revoking and reissuing ----------------------------------------------------------------


def revoke(certificate: Certificate, reason: str, *, by: User) -> None:
    if not reason.strip():
        raise CertificateError(_("Give a reason for revoking the certificate."))
    if not certificate.is_valid:
        raise CertificateError(_("This certificate is already revoked."))
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = by.id
    certificate.revoke_reason = reason.strip()
    audit.record("certificate.revoke", certificate, by=by, serial=certificate.serial, reason=reason)
    db.session.commit()


def reissue(certificate: Certificate, reason: str, *, by: User) -> Certificate:
    """Replace a certificate (a corrected name, say): the old one is revoked, a new one issued."""
    if not reason.strip():
        raise CertificateError(_("Give a reason for reissuing the certificate."))
    if not certificate.is_valid:
        raise CertificateError(_("Only a valid certificate can be reissued."))
    enrollment = db.session.get(Enrollment, certificate.enrollment_id)
    course = db.session.get(Course, certificate.course_id)
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = by.id
    certificate.revoke_reason = reason.strip()
    db.session.flush()
    replacement = _new_certificate(enrollment, course, by)
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
    db.session.commit()
    return replacement


# --- Rendering ---------------------------------------------------------------------------


def verify_url(certificate: Certificate) -> str:
    return external_url("certificates.verify", code=certificate.verification_code)


def qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=3, border=2, dark="#000", light="#fff")


def certificate_html(certificates: list[Certificate]) -> str:
    urls = [verify_url(certificate) for certificate in certificates]
    return render_template(
        "certificates/certificate.html",
        pages=[(c, url, qr_svg(url)) for c, url in zip(certificates, urls, strict=True)],
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
    db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.pdf.is_(None))
        .values(pdf=data, pdf_sha256=hashlib.sha256(data).hexdigest())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    # Whoever stored first wins; everybody serves the stored bytes from then on.
    return db.session.execute(
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
