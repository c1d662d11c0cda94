"""Enrolment by learners and by their company's training contact; giving a seat back."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import public, roles
from app.core.accounts.consent import CONSENT_ITEMS, ConsentError
from app.core.accounts.forms import consented
from app.core.accounts.models import Role
from app.core.accounts.services import AccountError
from app.core.confirmation import confirmation_page
from app.core.extensions import db
from app.core.formatting import local_datetime
from app.core.forms import ConfirmForm, flash_form_errors, show_domain_error
from app.core.links import same_site_path
from app.core.security import start_session
from app.core.timeutil import utcnow
from courses import attendance, enrolment, invitations
from courses.forms import AcceptInvitationForm, BulkEnrolForm, CheckInForm
from courses.models import Course, Enrollment, EnrollmentStatus
from courses.views.blueprint import bp
from courses.views.common import acting_user, back_to_course, course_or_404

# --- Learner -----------------------------------------------------------------------------


@bp.route("/courses/<int:course_id>/enroll", methods=["POST"])
@roles(Role.LEARNER)
def enroll(course_id: int):
    course = course_or_404(course_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        result = enrolment.enroll(course, acting_user(), by=acting_user())
    except enrolment.EnrolmentError as error:
        flash(error.message, "error")
    else:
        if result.got_seat:
            flash(
                _("You are enrolled. See you on %(date)s.", date=local_datetime(course.starts_at)),
                "success",
            )
        else:
            flash(
                _(
                    "The course is full. You are number %(n)d on the waiting list; "
                    "we will e-mail you when a seat frees up.",
                    n=result.waiting_position,
                ),
                "info",
            )
    return back_to_course(course)


@bp.route("/courses/<int:course_id>/cancel", methods=["GET", "POST"])
@roles(Role.LEARNER)
def cancel(course_id: int):
    course = course_or_404(course_id)
    enrollment = enrolment.find_enrollment(course.id, current_user.id)
    if enrollment is None or not enrollment.status.is_active:
        flash(_("You are not enrolled in this course."), "error")
        return back_to_course(course)
    if request.method == "GET":
        return _confirm_cancel(course, enrollment)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        enrolment.cancel(enrollment, by=acting_user())
    except enrolment.EnrolmentError as error:
        flash(error.message, "error")
    else:
        flash(_("Your enrolment has been cancelled."), "success")
    return back_to_course(course)


def _confirm_cancel(course, enrollment):
    waiting = enrollment.status == EnrollmentStatus.WAITING
    return confirmation_page(
        title=_("Leave the waiting list of %(title)s?", title=course.title)
        if waiting
        else _("Cancel your enrolment in %(title)s?", title=course.title),
        consequences=[
            _("Your place on the waiting list goes to the people after you.")
            if waiting
            else _("Your seat goes to the first person on the waiting list."),
            _("You can enrol again while the course has seats or takes a waiting list."),
        ],
        action=url_for("courses.cancel", course_id=course.id),
        confirm=_("Leave the waiting list") if waiting else _("Cancel my enrolment"),
        back=url_for("courses.detail", course_id=course.id),
    )


@bp.route("/courses/seat/decline/<token>", methods=["GET", "POST"])
@public
def decline_seat(token: str):
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            enrollment = enrolment.decline(token)
        except enrolment.EnrolmentError as error:
            return render_template("courses/decline.html", error=error.message, form=None), 410
        flash(_("Thank you. Your seat has been passed on to the next person."), "success")
        return redirect(url_for("courses.detail", course_id=enrollment.course_id))
    enrollment = db.session.execute(
        db.select(Enrollment).where(Enrollment.decline_token == token)
    ).scalar_one_or_none()
    if enrollment is None or enrollment.status != EnrollmentStatus.ENROLLED:
        return render_template(
            "courses/decline.html", error=_("This link is no longer valid."), form=None
        ), 410
    course = db.session.get(Course, enrollment.course_id)
    if course.has_started(utcnow()):  # what the button would answer (`enrolment.decline`)
        return render_template(
            "courses/decline.html", error=_("This course has already started."), form=None
        ), 410
    return render_template("courses/decline.html", course=course, form=form, error=None)


@bp.route("/courses/<int:course_id>/check-in", methods=["POST"])
@roles(Role.LEARNER)
def check_in(course_id: int):
    course = course_or_404(course_id)
    form = CheckInForm()
    if form.validate_on_submit():
        try:
            mark = attendance.check_in(course, acting_user(), form.code.data)
        except attendance.AttendanceError as error:
            flash(error.message, "error")
        else:
            flash(_("Checked in: %(status)s.", status=mark.status.label), "success")
    else:
        flash_form_errors(form)
    return redirect(same_site_path(request.form.get("next")) or url_for("me.home"))


# --- Company contact ---------------------------------------------------------------------


@bp.route("/courses/<int:course_id>/company", methods=["GET", "POST"])
@roles(Role.COMPANY)
def company_enrol(course_id: int):
    course = course_or_404(course_id)
    contact = acting_user()
    form = BulkEnrolForm()
    report = None
    if form.validate_on_submit():
        try:
            addresses = enrolment.parse_addresses(form.address_text())
            if not addresses:
                form.addresses.errors.append(_("No e-mail address was found."))
            else:
                report = invitations.invite_employees(course, contact, addresses)
        except enrolment.EnrolmentError as error:
            show_domain_error(form, error)
    return render_template(
        "courses/company_enrol.html",
        course=course,
        form=form,
        report=report,
        approved=contact.company is not None and contact.company.is_approved,
        invited=invitations.company_invitations(contact.company_id, course.id),
        employees=enrolment.company_enrolments(contact.company_id, course.id),
        now=utcnow(),
    )


@bp.route("/courses/invitations/<token>", methods=["GET", "POST"])
@public
def invitation(token: str):
    """The link in a company's invitation: accept with one's account, or set one up."""
    invitation = invitations.live_invitation(token)
    if invitation is None:
        return render_template("courses/invitation.html", invitation=None), 410
    course = db.session.get(Course, invitation.course_id)
    signed_in_as_invitee = current_user.is_authenticated and current_user.email == invitation.email
    new_account = not invitations.has_account(invitation)
    form = AcceptInvitationForm() if new_account else ConfirmForm()
    if form.validate_on_submit():
        try:
            if new_account:
                learner = invitations.accept_with_new_account(
                    token,
                    name=form.name.data,
                    password=form.password.data,
                    consents=consented(form),
                )
                start_session(learner)
            elif signed_in_as_invitee:
                invitations.accept(token, acting_user())
            else:
                abort(403)
        except enrolment.EnrolmentError as error:
            show_domain_error(form, error)
        except (AccountError, ConsentError) as error:
            show_domain_error(form, error)
        else:
            flash(_("You have accepted the invitation."), "success")
            return redirect(url_for("courses.detail", course_id=course.id))
    elif new_account and request.method == "GET" and invitation.name:
        form.name.data = invitation.name
    return render_template(
        "courses/invitation.html",
        invitation=invitation,
        course=course,
        form=form,
        new_account=new_account,
        signed_in_as_invitee=signed_in_as_invitee,
        consent_items=CONSENT_ITEMS,
    )
