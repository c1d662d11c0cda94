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


def _list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


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
        #: Every absolute link (mail, QR codes, feeds, calendars) is built from this, never
        #: from the request's Host header; requests for any other host are refused.
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000"),
        #: Further host names this site answers to (comma-separated), e.g. a bare domain
        #: that redirects; the host of BASE_URL is always trusted.
        "EXTRA_TRUSTED_HOSTS": _list("TRUSTED_HOSTS"),
        #: How many reverse proxies in front of the app to believe about the client's
        #: address and scheme (X-Forwarded-For, -Proto); 0 without a proxy.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
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
        #: A session ends after this long without a request (it slides with each one) ...
        "PERMANENT_SESSION_LIFETIME": timedelta(
            minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "120"))
        ),
        #: ... and this long after sign-in, however active it was.
        "SESSION_ABSOLUTE_LIFETIME": timedelta(
            hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12"))
        ),
        #: Failed sign-ins in a row that lock an account, and for how long.
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_LOCKOUT": timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))),
        #: Company bulk enrolment: invitations per request (an uploaded list is capped at
        #: 1 MB by its form).
        "BULK_INVITE_MAX_ADDRESSES": int(os.environ.get("BULK_INVITE_MAX_ADDRESSES", "300")),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        #: memory:// counts per process: with several workers or machines use Redis,
        #: e.g. redis://127.0.0.1:6379/0, so that a limit holds for the whole site.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "edu@coursedesk.invalid"),
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "log"),
    }
