"""The service-standards report as a PDF, for the web and for `flask standards report`."""

from __future__ import annotations

from flask import current_app

from app.core.pdf import render_pdf
from app.standards.models import PublishedReport
from app.standards.services import StandardsReport, State


def report_pdf(report: StandardsReport, published: PublishedReport | None) -> bytes:
    return render_pdf(
        "standards/report_pdf.html",
        report=report,
        published=published,
        State=State,
        institute=current_app.config["INSTITUTE_NAME"],
    )
