"""The staff dashboard, and approving newly registered companies."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import staff_only
from app.core.accounts import services as accounts
from app.core.accounts.models import Company
from app.core.extensions import db
from app.core.forms import ConfirmForm
from app.core.timeutil import local_today
from app.staff import services
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
    announcement_rows = announcements.announcement_standard(this_year)
    return render_template(
        "staff/dashboard.html",
        calendar_standards=services.calendar_standards(),
        overviews=[services.year_overview(this_year), services.year_overview(this_year + 1)],
        announcement_rows=announcement_rows,
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
