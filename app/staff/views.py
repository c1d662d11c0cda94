"""The staff dashboard, approving newly registered companies, and the mail log."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core import mail
from app.core.access import staff_only
from app.core.accounts import services as accounts
from app.core.accounts.models import Company
from app.core.extensions import db
from app.core.forms import ConfirmForm
from app.core.outbox import MailStatus, OutboxMessage
from app.core.timeutil import local_today
from app.staff import services
from app.staff.forms import MAIL_STATUS_LABELS, MailLogFilterForm, mail_kind_label
from app.standards import services as standards
from courses import announcements
from surveys import meetings
from surveys import services as surveys
from visits import mentoring
from visits import services as visits

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.route("/")
@staff_only
def dashboard():
    this_year = local_today().year
    # The standards panel may show another year (last year's, in January).
    standards_year = request.args.get("year", type=int, default=this_year)
    if not standards.FIRST_YEAR <= standards_year <= standards.LAST_YEAR:
        abort(404)
    announcement_rows = announcements.announcement_standard(this_year)
    return render_template(
        "staff/dashboard.html",
        standards=standards.compute(standards_year),
        next_calendar=services.next_calendar_standard(),
        State=standards.State,
        overviews=[services.year_overview(this_year), services.year_overview(this_year + 1)],
        # The exceptions that need action, never one row per course of the year.
        announcement_exceptions=services.announcement_exceptions(announcement_rows),
        announcement_summary=services.summarise_announcements(announcement_rows),
        unannounced_soon=announcements.starting_soon_unannounced(),
        survey_kpis=surveys.kpis(this_year),
        onsite=visits.onsite_standard(this_year),
        meetings=meetings.meeting_standard(this_year),
        meetings_target=meetings.MEETINGS_PER_YEAR,
        mentoring=mentoring.mentoring_standard(this_year),
        satisfaction_target=surveys.SATISFACTION_TARGET,
        helpfulness_target=surveys.HELPFULNESS_TARGET,
        year=this_year,
        companies_waiting=len(accounts.companies_awaiting_approval()),
        failed_mail=services.failed_mail_count(),
    )


@bp.route("/companies")
@staff_only
def companies():
    return render_template(
        "staff/companies.html",
        waiting=accounts.companies_awaiting_approval(),
        form=ConfirmForm(),
    )


@bp.route("/companies/<int:company_id>/approve", methods=["POST"])
@staff_only
def approve_company(company_id: int):
    company = db.session.get(Company, company_id)
    if company is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.approve_company(company, by=current_user._get_current_object())
    flash(_("%(name)s is approved.", name=company.name), "success")
    return redirect(url_for("staff.companies"))


# --- Mail log ----------------------------------------------------------------------------

#: The stored HTML part shown inside the log page: no script, no network, nothing but
#: the inline styles a mail has.
MAIL_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)


def _mail_or_404(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return message


@bp.route("/mail/")
@staff_only
def mail_log():
    form = MailLogFilterForm(request.args).with_kinds(
        [(kind, mail_kind_label(kind)) for kind in mail.kinds()]
    )
    search = services.MailSearch(**form.search_data())
    page = request.args.get("page", 1, type=int)
    result = services.search_mail(search, page=max(1, min(page or 1, 10_000)))
    return render_template(
        "staff/mail_log.html",
        form=form,
        result=result,
        status_labels=MAIL_STATUS_LABELS,
        kind_label=mail_kind_label,
    )


@bp.route("/mail/<int:message_id>")
@staff_only
def mail_message(message_id: int):
    message = _mail_or_404(message_id)
    return render_template(
        "staff/mail_message.html",
        message=message,
        form=ConfirmForm(),
        status_labels=MAIL_STATUS_LABELS,
        kind_label=mail_kind_label,
    )


@bp.route("/mail/<int:message_id>/preview")
@staff_only
def mail_preview(message_id: int):
    message = _mail_or_404(message_id)
    response = Response(message.html_body or "", mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.route("/mail/<int:message_id>/resend", methods=["POST"])
@staff_only
def resend_mail(message_id: int):
    message = _mail_or_404(message_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if message.status != MailStatus.FAILED:
        flash(_("Only a failed message can be sent again."), "error")
    else:
        services.resend_mail(message, by=current_user._get_current_object())
        flash(_("The message is queued again and goes out with the next delivery run."), "success")
    return redirect(url_for("staff.mail_message", message_id=message.id))
