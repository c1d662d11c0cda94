"""CourseDesk: the training side of a public export-control institute."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import INSTANCE_DIR, from_environment, instance_settings
from app.core import access, edge, security
from app.core.extensions import (
    babel,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
    render_migration_item,
)

ROOT = Path(__file__).resolve().parent.parent


class SessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def create_app(
    config: dict[str, Any] | None = None, *, instance_path: str | Path = INSTANCE_DIR
) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(from_environment())
    # What `make run` recorded (instance/settings.py), for a command run later without
    # those variables; a variable set in the environment wins.
    app.config.update(instance_settings(app.instance_path))
    if config:
        app.config.update(config)
    app.session_interface = SessionInterface()

    edge.init_app(app)
    _init_extensions(app)
    security.init_app(app)  # before the access rules: an expired session is signed out first
    access.init_app(app)
    _register_blueprints(app)

    from app import cli
    from app.core import errors, templating, unit_of_work

    unit_of_work.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_item=render_migration_item,
        compare_type=True,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=str(ROOT / "app" / "translations"),
    )
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from app.core.accounts.services import load_user_by_session_token

    login_manager.user_loader(load_user_by_session_token)
    _import_models()


def _import_models() -> None:
    """Import every model so that the metadata (and Alembic) sees all tables."""
    import app.core.accounts.models
    import app.core.audit
    import app.core.outbox
    import app.standards.models  # noqa: F401
    import certificates.models  # noqa: F401
    import courses.models  # noqa: F401
    import surveys.models  # noqa: F401
    import visits.models  # noqa: F401
    import voice.models  # noqa: F401


def _select_locale() -> str:
    from flask import current_app, has_request_context

    if not has_request_context():  # CLI, cron, PDF rendering outside a request
        return "ko"
    chosen = session.get("lang")
    return chosen if chosen in current_app.config["LANGUAGES"] else "ko"


def _register_blueprints(app: Flask) -> None:
    from app.accounts.views import bp as accounts_bp
    from app.accounts.views import me_bp
    from app.main import bp as main_bp
    from app.staff.views import bp as staff_bp
    from app.standards.views import bp as standards_bp
    from certificates.views import bp as certificates_bp
    from courses.views import bp as courses_bp
    from surveys.views import bp as surveys_bp
    from visits.views import bp as visits_bp
    from voice.views import bp as voice_bp

    for blueprint in (
        main_bp,
        accounts_bp,
        me_bp,
        staff_bp,
        standards_bp,
        courses_bp,
        certificates_bp,
        surveys_bp,
        visits_bp,
        voice_bp,
    ):
        app.register_blueprint(blueprint)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite: WAL for concurrent readers, wait instead of failing on a lock, enforce FKs."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_begin_before_savepoint(connection: Any, name: str) -> None:
    """SQLite: the driver sends BEGIN only before the first INSERT, UPDATE or DELETE, so a
    SAVEPOINT opened after reads only would start the transaction itself, and its RELEASE
    would commit everything so far. Begin the real transaction first (IMMEDIATE: it is
    about to write anyway, and the reads before it held no snapshot)."""
    if connection.dialect.name != "sqlite":
        return
    driver_connection = connection.connection.dbapi_connection
    if not driver_connection.in_transaction:
        driver_connection.execute("BEGIN IMMEDIATE")
