"""Enrolment by learners and by their company's training contact; giving a seat back."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import public, roles
from app.core.accounts.models import Role
from app.core.extensions import db
from app.core.formatting import local_datetime
from app.core.forms import ConfirmForm, flash_form_errors
from app.core.links import same_site_path
from courses import attendance, enrolment
from courses.forms import BulkEnrolForm, CheckInForm
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


@bp.route("/courses/<int:course_id>/cancel", methods=["POST"])
@roles(Role.LEARNER)
def cancel(course_id: int):
    course = course_or_404(course_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    enrollment = enrolment.find_enrollment(course.id, current_user.id)
    if enrollment is None:
        flash(_("You are not enrolled in this course."), "error")
        return back_to_course(course)
    try:
        enrolment.cancel(enrollment, by=acting_user())
    except enrolment.EnrolmentError as error:
        flash(error.message, "error")
    else:
        flash(_("Your enrolment has been cancelled."), "success")
    return back_to_course(course)


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
    form = BulkEnrolForm()
    outcomes = None
    if form.validate_on_submit():
        text = form.addresses.data or ""
        if form.file.data:
            raw = form.file.data.read()
            text += "\n" + raw.decode("utf-8-sig", errors="replace")
        addresses = enrolment.parse_addresses(text)
        if not addresses:
            form.addresses.errors.append(_("No e-mail address was found."))
        else:
            try:
                outcomes = enrolment.enrol_employees(course, acting_user(), addresses)
            except enrolment.EnrolmentError as error:
                flash(error.message, "error")
    return render_template(
        "courses/company_enrol.html",
        course=course,
        form=form,
        outcomes=outcomes,
        employees=enrolment.company_enrolments(current_user.company_id, course.id),
    )
