"""CP mentoring pages (routes of the visits blueprint)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.core.access import roles, staff_only
from app.core.accounts.models import Role, User
from app.core.confirmation import confirmation_page
from app.core.downloads import pdf_response
from app.core.extensions import db
from app.core.forms import ConfirmForm, flash_form_errors
from visits import mentoring
from visits.forms import (
    AssignForm,
    MentoringForm,
    VisitForm,
    checklist_form_class,
    checklist_items_form_class,
)
from visits.models import (
    ChecklistStatus,
    CpStatus,
    FollowUpAction,
    MentoringNeed,
    MentoringVisit,
)
from visits.views.blueprint import bp

ALL_ROLES = (Role.COMPANY, Role.INSTRUCTOR, Role.STAFF)


def _user():
    return current_user._get_current_object()


def _case_or_404(case_id: int):
    case = mentoring.case_for(case_id, current_user)
    if case is None:
        abort(404)
    return case


def _workable_or_403(case_id: int):
    case = _case_or_404(case_id)
    if not mentoring.can_work_on(case, current_user):
        abort(403)
    return case


def _back(case):
    return redirect(url_for("visits.mentoring_detail", case_id=case.id))


@bp.app_template_filter("need_label")
def need_label(value: str) -> str:
    return MentoringNeed(value).label


@bp.route("/mentoring/")
@roles(*ALL_ROLES)
def mentoring_list():
    return render_template("visits/mentoring_list.html", cases=mentoring.cases_for(current_user))


@bp.route("/mentoring/new", methods=["GET", "POST"])
@roles(Role.COMPANY)
def mentoring_new():
    form = MentoringForm()
    if not form.is_submitted():
        form.contact_name.data, form.contact_email.data = current_user.name, current_user.email
        form.contact_phone.data = current_user.phone
    if form.validate_on_submit():
        try:
            case = mentoring.apply(
                mentoring.Application(
                    cp_status=CpStatus(form.cp_status.data),
                    needs=[MentoringNeed(n) for n in form.needs.data],
                    preferred_dates=form.preferred_dates.data,
                    contact_name=form.contact_name.data,
                    contact_phone=form.contact_phone.data,
                    contact_email=form.contact_email.data,
                    notes=form.notes.data or "",
                ),
                by=_user(),
            )
        except mentoring.MentoringError as error:
            flash(error.message, "error")
        else:
            flash(
                _("Thank you: your application has been received. We will assign a mentor."),
                "success",
            )
            return _back(case)
    return render_template("visits/mentoring_form.html", form=form)


@bp.route("/mentoring/<int:case_id>")
@roles(*ALL_ROLES)
def mentoring_detail(case_id: int):
    case = _case_or_404(case_id)
    rows = mentoring.checklist(case)
    assign_form = AssignForm()
    assign_form.mentor_id.choices = [SelectChoice(str(u.id), u.name) for u in mentoring.mentors()]
    return render_template(
        "visits/mentoring_detail.html",
        case=case,
        checklist=rows,
        progress=mentoring.readiness([entry.status for _, entry in rows]),
        visits=mentoring.visits_of(case.id),
        can_work=mentoring.can_work_on(case, current_user),
        assign_form=assign_form,
        visit_form=VisitForm(),
        confirm_form=ConfirmForm(),
        statuses=list(ChecklistStatus),
        today=mentoring.local_today(),
    )


@bp.route("/mentoring/<int:case_id>/assign", methods=["POST"])
@staff_only
def mentoring_assign(case_id: int):
    case = _case_or_404(case_id)
    form = AssignForm()
    form.mentor_id.choices = [SelectChoice(str(u.id), u.name) for u in mentoring.mentors()]
    if form.validate_on_submit():
        try:
            mentoring.assign(case, db.session.get(User, form.mentor_id.data), by=_user())
        except mentoring.MentoringError as error:
            flash(error.message, "error")
        else:
            flash(_("The mentor has been assigned and the company told."), "success")
    else:
        flash(_("Choose a mentor from the list."), "error")
    return _back(case)


@bp.route("/mentoring/<int:case_id>/<any(start, close):action>", methods=["POST"])
@roles(Role.INSTRUCTOR, Role.STAFF)
def mentoring_action(case_id: int, action: str):
    case = _workable_or_403(case_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        (mentoring.start if action == "start" else mentoring.close)(case, by=_user())
    except mentoring.MentoringError as error:
        flash(error.message, "error")
    else:
        flash(_("Saved."), "success")
    return _back(case)


@bp.route("/mentoring/<int:case_id>/close", methods=["GET"])
@roles(Role.INSTRUCTOR, Role.STAFF)
def mentoring_confirm_close(case_id: int):
    case = _workable_or_403(case_id)
    return confirmation_page(
        title=_("Close the mentoring case of %(company)s?", company=case.company.name),
        consequences=[
            _("No visit or action can be added to a closed case."),
            _("The company can apply again for a new case."),
        ],
        action=url_for("visits.mentoring_action", case_id=case.id, action="close"),
        confirm=_("Close the case"),
        back=url_for("visits.mentoring_detail", case_id=case.id),
    )


@bp.route("/mentoring/<int:case_id>/visits", methods=["POST"])
@roles(Role.INSTRUCTOR, Role.STAFF)
def mentoring_log_visit(case_id: int):
    case = _workable_or_403(case_id)
    form = VisitForm()
    if form.validate_on_submit():
        try:
            mentoring.log_visit(
                case,
                visited_on=form.visited_on.data,
                attendees=form.attendees.data,
                topics=form.topics.data,
                findings=form.findings.data,
                actions=form.actions(),
                by=_user(),
            )
        except mentoring.MentoringError as error:
            flash(error.message, "error")
        else:
            flash(_("The visit has been logged."), "success")
    else:
        flash_form_errors(form)
    return _back(case)


@bp.route("/mentoring/<int:case_id>/checklist", methods=["POST"])
@roles(Role.INSTRUCTOR, Role.STAFF)
def mentoring_checklist(case_id: int):
    case = _workable_or_403(case_id)
    form = checklist_form_class([item.id for item, _entry in mentoring.checklist(case)])()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(case)
    changes = form.changes()
    mentoring.update_checklist(case, changes, by=_user())
    flash(_("The checklist has been saved."), "success")
    return _back(case)


@bp.route("/mentoring/actions/<int:action_id>/done", methods=["POST"])
@roles(Role.INSTRUCTOR, Role.STAFF)
def mentoring_action_done(action_id: int):
    action = db.session.get(FollowUpAction, action_id) or abort(404)
    case = _workable_or_403(action.case_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    mentoring.complete_action(action, by=_user())
    return _back(case)


@bp.route("/mentoring/visits/<int:visit_id>.pdf")
@roles(*ALL_ROLES)
def mentoring_visit_pdf(visit_id: int):
    visit = db.session.get(MentoringVisit, visit_id) or abort(404)
    case = _case_or_404(visit.case_id)
    return pdf_response(mentoring.visit_report_pdf(visit, case), f"mentoring-visit-{visit.id}.pdf")


@bp.route("/mentoring/checklist-items", methods=["GET", "POST"])
@staff_only
def mentoring_items():
    items = mentoring.all_items()
    form = checklist_items_form_class([item.id for item in items])()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash_form_errors(form)
            return redirect(url_for("visits.mentoring_items"))
        mentoring.save_items(form.rows(), by=_user())
        flash(_("The checklist items have been saved."), "success")
        return redirect(url_for("visits.mentoring_items"))
    return render_template("visits/checklist_items.html", items=items)
