"""The staff dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.core.access import staff_only
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
    )
