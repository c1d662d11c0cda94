"""Configuration read from the environment, with safe defaults for development."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """The SECRET_KEY from the environment, or one kept in instance/ for development."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgres:// URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def from_environment() -> dict[str, Any]:
    default_db = f"sqlite:///{INSTANCE_DIR / 'coursedesk.sqlite3'}"
    return {
        "SECRET_KEY": _secret_key(),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            os.environ.get("DATABASE_URL", default_db)
        ),
        "TIMEZONE": os.environ.get("TIMEZONE", "Asia/Seoul"),
        "BABEL_DEFAULT_LOCALE": "ko",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("TIMEZONE", "Asia/Seoul"),
        "LANGUAGES": ["ko", "en"],
        #: Absolute links in mail sent from cron (no request to take the host from).
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000"),
        #: Announcements go out this many days before a course starts (the charter demands 7+).
        "ANNOUNCE_DAYS_BEFORE": int(os.environ.get("ANNOUNCE_DAYS_BEFORE", "14")),
        #: Custom on-site training: sign-ups needed, days to gather them, first-response SLA.
        "ONSITE_THRESHOLD": int(os.environ.get("ONSITE_THRESHOLD", "10")),
        "ONSITE_SIGNUP_DAYS": int(os.environ.get("ONSITE_SIGNUP_DAYS", "21")),
        "ONSITE_SLA_WORKING_DAYS": int(os.environ.get("ONSITE_SLA_WORKING_DAYS", "2")),
        #: Survey answers reach the reports in shuffled batches of at least this many per
        #: course or half-year (or when the survey closes): 1 in k anonymity.
        "SURVEY_RELEASE_BATCH": int(os.environ.get("SURVEY_RELEASE_BATCH", "5")),
        "INSTITUTE_NAME": os.environ.get("INSTITUTE_NAME", "전략물자관리원 교육센터"),
        # Session cookies: HttpOnly, SameSite=Lax, Secure over HTTPS (see SessionInterface).
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE"),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "edu@coursedesk.invalid"),
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "log"),
    }
