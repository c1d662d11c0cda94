"""Enrolment, the roster, attendance and completion (routes of the courses blueprint)."""

from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl import Workbook

from app.core.access import public, roles, staff_only
from app.core.accounts import services as accounts
from app.core.accounts.models import Role
from app.core.extensions import db
from app.core.forms import flash_form_errors
from app.core.templating import local_datetime
from courses import attendance, enrolment, services
from courses.forms import (
    BulkEnrolForm,
    CheckInForm,
    CompletionOverrideForm,
    ConfirmForm,
    MoveInQueueForm,
    ReasonForm,
    StaffEnrolForm,
    attendance_form_class,
)
from courses.models import AttendanceStatus, Course, CourseSession, Enrollment, EnrollmentStatus
from courses.views import bp


def _user():
    return current_user._get_current_object()


def _course_or_404(course_id: int) -> Course:
    course = services.get_course(course_id)
    if course is None or not services.can_see_course(course, current_user):
        abort(404)
    return course


def _enrollment_or_404(course: Course, enrollment_id: int) -> Enrollment:
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.course_id != course.id:
        abort(404)
    return enrollment


def _back(course: Course, anchor: str = ""):
    return redirect(url_for("courses.detail", course_id=course.id) + anchor)


# --- Learner -----------------------------------------------------------------------------


@bp.route("/courses/<int:course_id>/enroll", methods=["POST"])
@roles(Role.LEARNER)
def enroll(course_id: int):
    course = _course_or_404(course_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        result = enrolment.enroll(course, _user(), by=_user())
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
    return _back(course)


@bp.route("/courses/<int:course_id>/cancel", methods=["POST"])
@roles(Role.LEARNER)
def cancel(course_id: int):
    course = _course_or_404(course_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    enrollment = enrolment.find_enrollment(course.id, current_user.id)
    if enrollment is None:
        flash(_("You are not enrolled in this course."), "error")
        return _back(course)
    try:
        enrolment.cancel(enrollment, by=_user())
    except enrolment.EnrolmentError as error:
        flash(error.message, "error")
    else:
        flash(_("Your enrolment has been cancelled."), "success")
    return _back(course)


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
    course = _course_or_404(course_id)
    form = CheckInForm()
    if form.validate_on_submit():
        try:
            mark = attendance.check_in(course, _user(), form.code.data)
        except attendance.AttendanceError as error:
            flash(error.message, "error")
        else:
            flash(_("Checked in: %(status)s.", status=mark.status.label), "success")
    else:
        flash_form_errors(form)
    return redirect(request.form.get("next") or url_for("me.home"))


# --- Company contact ---------------------------------------------------------------------


@bp.route("/courses/<int:course_id>/company", methods=["GET", "POST"])
@roles(Role.COMPANY)
def company_enrol(course_id: int):
    course = _course_or_404(course_id)
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
                outcomes = enrolment.enrol_employees(course, _user(), addresses)
            except enrolment.EnrolmentError as error:
                flash(error.message, "error")
    return render_template(
        "courses/company_enrol.html",
        course=course,
        form=form,
        outcomes=outcomes,
        employees=enrolment.company_enrolments(current_user.company_id, course.id),
    )


# --- Staff and instructors: roster -------------------------------------------------------


def _roster_or_403(course_id: int) -> Course:
    course = _course_or_404(course_id)
    if not attendance.can_take_attendance(course, current_user):
        abort(403)
    return course


@bp.route("/courses/<int:course_id>/roster")
@roles(Role.INSTRUCTOR, Role.STAFF)
def roster(course_id: int):
    course = _roster_or_403(course_id)
    seated = attendance.roster(course.id)
    return render_template(
        "courses/roster.html",
        course=course,
        seated=seated,
        waiting=enrolment.waiting_list(course.id),
        sessions=attendance.sessions_of(course.id),
        enrol_form=StaffEnrolForm(),
        reason_form=ReasonForm(),
        move_form=MoveInQueueForm(),
        override_form=CompletionOverrideForm(),
        confirm_form=ConfirmForm(),
    )


@bp.route("/courses/<int:course_id>/roster.<any(csv, xlsx):fmt>")
@roles(Role.INSTRUCTOR, Role.STAFF)
def roster_export(course_id: int, fmt: str):
    course = _roster_or_403(course_id)
    header = [
        _("No."),
        _("Name"),
        _("E-mail"),
        _("Company"),
        _("Department"),
        _("Status"),
        _("Completion"),
    ]
    rows = [
        [
            number,
            e.learner.name,
            e.learner.email,
            e.learner.company.name if e.learner.company else "",
            e.learner.department or "",
            e.status.label,
            "" if e.completed is None else (_("Completed") if e.completed else _("Not completed")),
        ]
        for number, e in enumerate(
            attendance.roster(course.id) + enrolment.waiting_list(course.id), start=1
        )
    ]
    filename = f"roster-{course.id}.{fmt}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        # UTF-8 with BOM, so that Excel opens the Korean names correctly.
        data = buffer.getvalue().encode("utf-8-sig")
        mimetype = "text/csv; charset=utf-8"
    else:
        book = Workbook()
        sheet = book.active
        sheet.title = _("Roster")
        sheet.append([course.title])
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        for column, width in zip("ABCDEFG", (6, 14, 30, 20, 16, 12, 12), strict=True):
            sheet.column_dimensions[column].width = width
        buffer = io.BytesIO()
        book.save(buffer)
        data = buffer.getvalue()
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/courses/<int:course_id>/roster/add", methods=["POST"])
@staff_only
def roster_add(course_id: int):
    course = _course_or_404(course_id)
    form = StaffEnrolForm()
    if form.validate_on_submit():
        learner = accounts.find_user(form.email.data)
        if learner is None:
            flash(_("No account uses this e-mail address."), "error")
        else:
            try:
                result = enrolment.enroll(
                    course,
                    learner,
                    by=_user(),
                    source=enrolment.EnrollmentSource.STAFF,
                    reason=form.reason.data,
                )
            except enrolment.EnrolmentError as error:
                flash(error.message, "error")
            else:
                flash(
                    _("%(name)s is enrolled.", name=learner.name)
                    if result.got_seat
                    else _(
                        "%(name)s is on the waiting list (number %(n)d).",
                        name=learner.name,
                        n=result.waiting_position,
                    ),
                    "success",
                )
    else:
        flash_form_errors(form)
    return redirect(url_for("courses.roster", course_id=course.id))


@bp.route("/courses/<int:course_id>/roster/<int:enrollment_id>/remove", methods=["POST"])
@staff_only
def roster_remove(course_id: int, enrollment_id: int):
    course = _course_or_404(course_id)
    enrollment = _enrollment_or_404(course, enrollment_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            promoted = enrolment.cancel(enrollment, by=_user(), reason=form.reason.data)
        except enrolment.EnrolmentError as error:
            flash(error.message, "error")
        else:
            flash(_("The learner has been removed."), "success")
            for moved in promoted:
                flash(
                    _("%(name)s moved up from the waiting list.", name=moved.learner.name), "info"
                )
    else:
        flash_form_errors(form)
    return redirect(url_for("courses.roster", course_id=course.id))


@bp.route("/courses/<int:course_id>/roster/<int:enrollment_id>/move", methods=["POST"])
@staff_only
def roster_move(course_id: int, enrollment_id: int):
    course = _course_or_404(course_id)
    enrollment = _enrollment_or_404(course, enrollment_id)
    form = MoveInQueueForm()
    if form.validate_on_submit():
        try:
            enrolment.move_in_queue(
                enrollment, to_position=form.position.data, by=_user(), reason=form.reason.data
            )
        except enrolment.EnrolmentError as error:
            flash(error.message, "error")
        else:
            flash(_("The waiting list has been reordered."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("courses.roster", course_id=course.id) + "#waiting")


# --- Attendance and completion -----------------------------------------------------------


@bp.route("/courses/<int:course_id>/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
@roles(Role.INSTRUCTOR, Role.STAFF)
def take_attendance(course_id: int, session_id: int):
    course = _roster_or_403(course_id)
    session = db.session.get(CourseSession, session_id)
    if session is None or session.course_id != course.id:
        abort(404)
    seated = attendance.roster(course.id)
    form = attendance_form_class(seated, attendance.marks_for(session))()
    if form.validate_on_submit():
        marks = {e.id: AttendanceStatus(form[f"e{e.id}"].data) for e in seated}
        try:
            changed = attendance.record_attendance(session, marks, by=_user())
        except attendance.AttendanceError as error:
            flash(error.message, "error")
        else:
            flash(_("Attendance saved (%(n)d changes).", n=changed), "success")
            return redirect(url_for("courses.roster", course_id=course.id))
    return render_template(
        "courses/attendance.html", course=course, session=session, seated=seated, form=form
    )


@bp.route("/courses/<int:course_id>/close", methods=["POST"])
@staff_only
def close(course_id: int):
    course = _course_or_404(course_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        summary = attendance.close_course(course, by=_user())
    except attendance.AttendanceError as error:
        flash(error.message, "error")
    else:
        flash(
            _(
                "Course closed: %(done)d completed, %(not_done)d did not complete.",
                done=summary.completed,
                not_done=summary.not_completed,
            ),
            "success",
        )
    return redirect(url_for("courses.roster", course_id=course.id))


@bp.route("/courses/<int:course_id>/roster/<int:enrollment_id>/completion", methods=["POST"])
@staff_only
def override_completion(course_id: int, enrollment_id: int):
    course = _course_or_404(course_id)
    enrollment = _enrollment_or_404(course, enrollment_id)
    form = CompletionOverrideForm()
    if form.validate_on_submit():
        try:
            attendance.override_completion(
                enrollment, form.completed.data == "1", form.reason.data, by=_user()
            )
        except attendance.AttendanceError as error:
            flash(error.message, "error")
        else:
            flash(_("Completion changed."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("courses.roster", course_id=course.id))
