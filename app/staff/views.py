"""The staff dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.access import staff_only
from app.staff import services
from app.timeutil import local_today

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.route("/")
@staff_only
def dashboard():
    this_year = local_today().year
    return render_template(
        "staff/dashboard.html",
        calendar_standards=services.calendar_standards(),
        overviews=[services.year_overview(this_year), services.year_overview(this_year + 1)],
    )
