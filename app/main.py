"""Home page, health check and the language switch."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.core.access import public
from app.core.extensions import csrf, db
from app.core.links import same_site_path
from app.core.page_cache import shared_briefly
from courses import announcements
from courses import services as courses

bp = Blueprint("main", __name__)


@bp.route("/")
@public
@shared_briefly
def home():
    return render_template(
        "main/home.html",
        upcoming=courses.upcoming_courses(limit=6),
        announcements=announcements.published_announcements(limit=3),
        calendar_year=courses.current_calendar_year(),
    )


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("Health check: database unreachable")
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})


@bp.route("/lang/<code>", methods=["POST"])
@public
# No CSRF token: the worst a forged post can do is switch someone's display language, and
# a token on every page would give every anonymous visitor a session, so that no public
# page could be shared between them (app.core.page_cache).
@csrf.exempt
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(same_site_path(request.form.get("next")) or url_for("main.home"))
