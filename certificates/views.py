"""Certificate downloads, staff revocation and reissue, and public verification.

A course's certificate pages (the staff list, issuing, bulk downloads) and the learner's
"get my certificate" button are course pages: they live in `courses/views/certificates.py`,
as this feature knows no course.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import public, signed_in, staff_only
from app.core.accounts.models import Role
from app.core.downloads import pdf_response
from app.core.extensions import limiter
from certificates import privacy, services
from certificates.forms import CertificateReasonForm, VerifyCodeForm
from certificates.models import Certificate

bp = Blueprint("certificates", __name__, url_prefix="/certificates")


def _user():
    return current_user._get_current_object()


def _back_to_course(certificate: Certificate):
    return redirect(url_for("courses.certificate_list", course_id=certificate.course_id))


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
    response = pdf_response(
        services.pdf_bytes(certificate), f"certificate-{certificate.serial}.pdf"
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/verify/")
@public
def verify_form():
    """Type a code instead of scanning it; a well-formed one goes to its page."""
    if "code" not in request.args:
        return render_template("certificates/verify_form.html", form=VerifyCodeForm(formdata=None))
    form = VerifyCodeForm(formdata=request.args)
    if form.validate():
        return redirect(url_for("certificates.verify", code=form.code.data), 303)
    return render_template("certificates/verify_form.html", form=form), 400


@bp.route("/verify/<code>")
@public
@limiter.limit("30 per minute")
def verify(code: str):
    result = services.verify(code)
    status = 200 if result.state in ("valid", "revoked") else 404
    erased = result.certificate is not None and privacy.holder_erased(result.certificate)
    return render_template(
        "certificates/verify.html",
        form=VerifyCodeForm(formdata=None),
        result=result,
        holder_erased=erased,
        masked_name=services.mask_name(result.certificate.holder_name)
        if result.certificate and not erased
        else None,
    ), status


# --- Staff -------------------------------------------------------------------------------


@bp.route("/<serial>/revoke", methods=["POST"])
@staff_only
def revoke(serial: str):
    certificate = services.by_serial(serial) or abort(404)
    form = CertificateReasonForm()
    if form.validate_on_submit():
        try:
            services.revoke(certificate, form.reason.data, by=_user())
        except services.CertificateError as error:
            flash(error.message, "error")
        else:
            flash(_("Certificate %(serial)s has been revoked.", serial=serial), "success")
    else:
        flash(_("Give a reason for revoking the certificate."), "error")
    return _back_to_course(certificate)


@bp.route("/<serial>/reissue", methods=["POST"])
@staff_only
def reissue(serial: str):
    certificate = services.by_serial(serial) or abort(404)
    form = CertificateReasonForm()
    if form.validate_on_submit():
        try:
            replacement = services.reissue(certificate, form.reason.data, by=_user())
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
    return _back_to_course(certificate)
