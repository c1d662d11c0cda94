"""A course's certificates: the staff list, issuing and bulk downloads, and the learner's
"get my certificate" button. The certificates feature itself knows no course; these pages
join the two, through `courses.attendance` (which decides) and `certificates.services`
(which issues, renders and lists)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import roles, staff_only
from app.core.accounts.models import Role
from app.core.downloads import file_response, pdf_response
from app.core.extensions import db
from app.core.forms import ConfirmForm
from certificates import services as certificates
from courses import attendance, services
from courses.models import Enrollment
from courses.views.blueprint import bp
from courses.views.common import acting_user, course_or_404


@bp.route("/courses/<int:course_id>/certificates")
@staff_only
def certificate_list(course_id: int):
    course = course_or_404(course_id)
    return render_template(
        "courses/certificates.html",
        course=course,
        certificates=certificates.course_certificates(course.id),
        revoked=certificates.revoked_certificates(course.id),
    )


@bp.route("/courses/<int:course_id>/certificates/issue", methods=["POST"])
@staff_only
def issue_certificates(course_id: int):
    course = course_or_404(course_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    issued = attendance.settle_course_certificates(course, by=acting_user())
    flash(_("%(n)d certificates issued.", n=issued), "success")
    return redirect(url_for("courses.certificate_list", course_id=course.id))


@bp.route("/courses/<int:course_id>/certificates/all.<any(pdf, zip):fmt>")
@staff_only
def certificates_bulk(course_id: int, fmt: str):
    course = course_or_404(course_id)
    issued = certificates.course_certificates(course.id)
    if not issued:
        abort(404, description=_("This course has no certificates yet."))
    filename = f"certificates-course-{course.id}.{fmt}"
    if fmt == "pdf":
        response = pdf_response(certificates.render(issued), filename)
    else:
        response = file_response(certificates.bulk_zip(issued), filename, "application/zip")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/courses/enrollments/<int:enrollment_id>/certificate", methods=["POST"])
@roles(Role.LEARNER)
def issue_my_certificate(enrollment_id: int):
    """A learner's completed enrolment whose certificate is not out yet (just after the
    survey, say): settle it and open it, or say what is still missing."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.learner_id != current_user.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    certificate = attendance.settle_certificate(enrollment, by=None)
    if certificate is None:
        course = services.get_course(enrollment.course_id)
        flash(
            attendance.certificate_refusal(enrollment, course)
            or _("This enrolment has no certificate."),
            "error",
        )
        return redirect(url_for("me.home"))
    return redirect(url_for("certificates.download", serial=certificate.serial))
