"""Certificate downloads, bulk exports, staff revocation and public verification."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import public, roles, signed_in, staff_only
from app.core.accounts.models import Role
from app.core.extensions import db, limiter
from certificates import services
from certificates.forms import CertificateReasonForm
from courses.forms import ConfirmForm
from courses.models import Course, Enrollment

bp = Blueprint("certificates", __name__, url_prefix="/certificates")


def _pdf_response(data: bytes, filename: str, *, inline: bool = True) -> Response:
    response = Response(data, mimetype="application/pdf")
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/<serial>.pdf")
@signed_in
def download(serial: str):
    certificate = services.by_serial(serial)
    if certificate is None:
        abort(404)
    if certificate.learner_id != current_user.id and current_user.role != Role.STAFF:
        abort(403)
    if not certificate.is_valid and current_user.role != Role.STAFF:
        abort(404, description=_("This certificate has been revoked."))
    return _pdf_response(services.pdf_bytes(certificate), f"certificate-{certificate.serial}.pdf")


@bp.route("/issue/<int:enrollment_id>", methods=["POST"])
@roles(Role.LEARNER)
def issue_mine(enrollment_id: int):
    """A learner's completed enrolment whose certificate is not out yet (e.g. just after
    the survey): issue it and open it."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.learner_id != current_user.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        certificate = services.issue(enrollment)
    except services.CertificateError as error:
        flash(error.message, "error")
        return redirect(url_for("me.home"))
    return redirect(url_for("certificates.download", serial=certificate.serial))


@bp.route("/verify/<code>")
@public
@limiter.limit("30 per minute")
def verify(code: str):
    result = services.verify(code)
    status = 200 if result.state in ("valid", "revoked") else 404
    return render_template(
        "certificates/verify.html",
        result=result,
        masked_name=services.mask_name(result.certificate.holder_name)
        if result.certificate
        else None,
    ), status


# --- Staff -------------------------------------------------------------------------------


def _course_or_404(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:
        abort(404)
    return course


@bp.route("/course/<int:course_id>")
@staff_only
def course_list(course_id: int):
    course = _course_or_404(course_id)
    return render_template(
        "certificates/course.html",
        course=course,
        certificates=services.course_certificates(course.id),
        reason_form=CertificateReasonForm(),
        confirm_form=ConfirmForm(),
    )


@bp.route("/course/<int:course_id>/issue", methods=["POST"])
@staff_only
def issue_course(course_id: int):
    course = _course_or_404(course_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    issued = services.issue_for_course(course, by=current_user._get_current_object())
    flash(_("%(n)d certificates issued.", n=issued), "success")
    return redirect(url_for("certificates.course_list", course_id=course.id))


@bp.route("/course/<int:course_id>/all.<any(pdf, zip):fmt>")
@staff_only
def course_bulk(course_id: int, fmt: str):
    course = _course_or_404(course_id)
    certificates = services.course_certificates(course.id)
    if not certificates:
        abort(404, description=_("This course has no certificates yet."))
    if fmt == "pdf":
        return _pdf_response(services.render(certificates), f"certificates-course-{course.id}.pdf")
    response = Response(services.bulk_zip(certificates), mimetype="application/zip")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="certificates-course-{course.id}.zip"'
    )
    return response


@bp.route("/<serial>/revoke", methods=["POST"])
@staff_only
def revoke(serial: str):
    certificate = services.by_serial(serial) or abort(404)
    form = CertificateReasonForm()
    if form.validate_on_submit():
        try:
            services.revoke(certificate, form.reason.data, by=current_user._get_current_object())
        except services.CertificateError as error:
            flash(error.message, "error")
        else:
            flash(_("Certificate %(serial)s has been revoked.", serial=serial), "success")
    else:
        flash(_("Give a reason for revoking the certificate."), "error")
    return redirect(url_for("certificates.course_list", course_id=certificate.course_id))


@bp.route("/<serial>/reissue", methods=["POST"])
@staff_only
def reissue(serial: str):
    certificate = services.by_serial(serial) or abort(404)
    form = CertificateReasonForm()
    if form.validate_on_submit():
        try:
            replacement = services.reissue(
                certificate, form.reason.data, by=current_user._get_current_object()
            )
        except services.CertificateError as error:
            flash(error.message, "error")
        else:
            flash(
                _(
                    "Reissued as %(serial)s; the old certificate is revoked.",
                    serial=replacement.serial,
                ),
                "success",
            )
    else:
        flash(_("Give a reason for reissuing the certificate."), "error")
    return redirect(url_for("certificates.course_list", course_id=certificate.course_id))
