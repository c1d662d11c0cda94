"""The service-standards report: public once published, live for staff."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import public, staff_only
from app.core.accounts.models import Role
from app.core.confirmation import confirmation_page
from app.core.downloads import pdf_response
from app.core.forms import ConfirmForm
from app.core.timeutil import local_today
from app.standards import documents, services
from app.standards.models import PublishedReport

bp = Blueprint("standards", __name__, url_prefix="/standards")


def _is_staff() -> bool:
    return current_user.is_authenticated and current_user.role == Role.STAFF


def _report_or_404(year: int) -> tuple[services.StandardsReport, PublishedReport | None]:
    """Staff read the figures as they stand now; the public the snapshot staff published."""
    if not services.FIRST_YEAR <= year <= services.LAST_YEAR:
        abort(404)
    published = services.published_report(year)
    if _is_staff():
        return services.compute(year), published
    if published is None:
        abort(404)
    return services.snapshot_of(published), published


@bp.route("/")
@public
def index():
    return render_template(
        "standards/index.html",
        reports=services.published_years(),
        this_year=local_today().year,
        is_staff=_is_staff(),
    )


@bp.route("/<int:year>")
@public
def report(year: int):
    figures, published = _report_or_404(year)
    return render_template(
        "standards/report.html",
        report=figures,
        published=published,
        is_staff=_is_staff(),
        State=services.State,
    )


@bp.route("/<int:year>.pdf")
@public
def report_pdf(year: int):
    figures, published = _report_or_404(year)
    return pdf_response(documents.report_pdf(figures, published), f"standards-{year}.pdf")


@bp.route("/<int:year>/publish", methods=["GET", "POST"])
@staff_only
def publish(year: int):
    if not services.FIRST_YEAR <= year <= services.LAST_YEAR:
        abort(404)
    if request.method == "GET":
        again = services.published_report(year) is not None
        return confirmation_page(
            title=_("Publish the %(year)d service-standards report?", year=year),
            consequences=[
                _("Anyone can read the report at its public address."),
                _(
                    "The figures are published as they stand now; publishing again later "
                    "replaces them."
                )
                if not again
                else _("The published figures are replaced by the figures as they stand now."),
            ],
            action=url_for("standards.publish", year=year),
            confirm=_("Publish the report"),
            back=url_for("standards.report", year=year),
            danger=False,
        )
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.publish(year, by=current_user)
    flash(_("The %(year)d service-standards report is now public.", year=year), "success")
    return redirect(url_for("standards.report", year=year))
