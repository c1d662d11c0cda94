"""The roster (staff and the course's instructors): exports, staff enrolment and removal,
the waiting list, attendance and completion."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import roles, staff_only
from app.core.accounts import services as accounts
from app.core.accounts.models import Role, User
from app.core.confirmation import confirmation_page
from app.core.downloads import csv_response, xlsx_response
from app.core.extensions import db
from app.core.forms import ConfirmForm, flash_form_errors
from courses import attendance, enrolment
from courses.forms import (
    CompletionOverrideForm,
    MoveInQueueForm,
    ReasonForm,
    StaffEnrolForm,
    attendance_form_class,
)
from courses.models import AttendanceStatus, Course, CourseSession
from courses.views.blueprint import bp
from courses.views.common import acting_user, course_or_404, enrollment_or_404

ROSTER_COLUMN_WIDTHS = (6, 14, 30, 20, 16, 12, 12, 17)


def _roster_or_403(course_id: int) -> Course:
    course = course_or_404(course_id)
    if not attendance.can_take_attendance(course, current_user):
        abort(403)
    return course


def _to_roster(course: Course, anchor: str = ""):
    return redirect(url_for("courses.roster", course_id=course.id) + anchor)


@bp.route("/courses/<int:course_id>/roster")
@roles(Role.INSTRUCTOR, Role.STAFF)
def roster(course_id: int):
    course = _roster_or_403(course_id)
    return render_template(
        "courses/roster.html",
        course=course,
        seated=attendance.roster(course.id),
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
        _("Joined"),
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
            e.created_at,  # UTC; the download shows it in local time, as a date cell
        ]
        for number, e in enumerate(
            attendance.roster(course.id) + enrolment.waiting_list(course.id), start=1
        )
    ]
    filename = f"roster-{course.id}.{fmt}"
    if fmt == "csv":
        return csv_response(header, rows, filename)
    # Six runs may share a title: the document's title names this one by its start day.
    # Neither goes above the header, where a reader would take it for the header.
    return xlsx_response(
        header,
        rows,
        filename,
        sheet_title=course.title,
        title=f"{course.title} ({course.local_start:%Y-%m-%d})",
        subject=_("Roster"),
        widths=ROSTER_COLUMN_WIDTHS,
    )


@bp.route("/courses/<int:course_id>/roster/add", methods=["POST"])
@staff_only
def roster_add(course_id: int):
    course = course_or_404(course_id)
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
                    by=acting_user(),
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
    return _to_roster(course)


@bp.route("/courses/<int:course_id>/roster/<int:enrollment_id>/remove", methods=["POST"])
@staff_only
def roster_remove(course_id: int, enrollment_id: int):
    course = course_or_404(course_id)
    enrollment = enrollment_or_404(course, enrollment_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            promoted = enrolment.cancel(enrollment, by=acting_user(), reason=form.reason.data)
        except enrolment.EnrolmentError as error:
            flash(error.message, "error")
        else:
            flash(_("The learner has been removed."), "success")
            for moved in promoted:
                # By id: whether the service left `learner` loaded is not this page's concern.
                learner = db.session.get(User, moved.learner_id)
                flash(_("%(name)s moved up from the waiting list.", name=learner.name), "info")
    else:
        flash_form_errors(form)
    return _to_roster(course)


@bp.route("/courses/<int:course_id>/roster/<int:enrollment_id>/move", methods=["POST"])
@staff_only
def roster_move(course_id: int, enrollment_id: int):
    course = course_or_404(course_id)
    enrollment = enrollment_or_404(course, enrollment_id)
    form = MoveInQueueForm()
    if form.validate_on_submit():
        try:
            enrolment.move_in_queue(
                enrollment,
                to_position=form.position.data,
                by=acting_user(),
                reason=form.reason.data,
            )
        except enrolment.EnrolmentError as error:
            flash(error.message, "error")
        else:
            flash(_("The waiting list has been reordered."), "success")
    else:
        flash_form_errors(form)
    return _to_roster(course, "#waiting")


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
            changed = attendance.record_attendance(session, marks, by=acting_user())
        except attendance.AttendanceError as error:
            flash(error.message, "error")
        else:
            flash(_("Attendance saved (%(n)d changes).", n=changed), "success")
            return _to_roster(course)
    return render_template(
        "courses/attendance.html", course=course, session=session, seated=seated, form=form
    )


@bp.route("/courses/<int:course_id>/close", methods=["GET", "POST"])
@staff_only
def close(course_id: int):
    course = course_or_404(course_id)
    if request.method == "GET":
        return confirmation_page(
            title=_("Close %(title)s and record completion?", title=course.title),
            consequences=[
                _(
                    "Each learner who attended at least %(n)d%% of the hours completes the "
                    "course; the others do not.",
                    n=course.completion_threshold,
                ),
                _(
                    "Certificates are issued to those who completed (after the survey, if the "
                    "course has one)."
                ),
            ],
            action=url_for("courses.close", course_id=course.id),
            confirm=_("Close the course"),
            back=url_for("courses.roster", course_id=course.id),
        )
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        summary = attendance.close_course(course, by=acting_user())
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
    return _to_roster(course)


@bp.route("/courses/<int:course_id>/roster/<int:enrollment_id>/completion", methods=["POST"])
@staff_only
def override_completion(course_id: int, enrollment_id: int):
    course = course_or_404(course_id)
    enrollment = enrollment_or_404(course, enrollment_id)
    form = CompletionOverrideForm()
    if form.validate_on_submit():
        try:
            attendance.override_completion(
                enrollment, form.completed.data == "1", form.reason.data, by=acting_user()
            )
        except attendance.AttendanceError as error:
            flash(error.message, "error")
        else:
            flash(_("Completion changed."), "success")
    else:
        flash_form_errors(form)
    return _to_roster(course)
