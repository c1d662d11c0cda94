"""Configuration read from the environment, then from the instance settings file, with
safe defaults for development."""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Config

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"

#: This installation's own settings, in the instance folder: Flask config keys as Python
#: assignments, loaded over the defaults. `make run` records the BASE_URL it serves on
#: here, so that the commands run later from a shell or cron without it (`outbox send`,
#: `announce-due`, `seed-demo`) link to the same address. An environment variable of the
#: same name wins over the file.
SETTINGS_FILE = "settings.py"


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


def instance_settings(instance_path: str | Path = INSTANCE_DIR) -> dict[str, Any]:
    """The settings recorded in the instance folder, less those the environment sets."""
    recorded = Config(str(instance_path))
    recorded.from_pyfile(SETTINGS_FILE, silent=True)
    return {key: value for key, value in recorded.items() if key not in os.environ}


def record_setting(name: str, value: str, instance_path: str | Path = INSTANCE_DIR) -> Path:
    """Write `name = value` into the instance settings file, keeping its other lines."""
    path = Path(instance_path) / SETTINGS_FILE
    assignment = f"{name} = {value!r}"
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines()
    else:
        lines = [
            "# This installation's settings (Flask config keys); an environment variable",
            "# of the same name wins. `make run` keeps BASE_URL up to date.",
        ]
    pattern = re.compile(rf"{re.escape(name)}\s*=")
    if any(pattern.match(line) for line in lines):
        lines = [assignment if pattern.match(line) else line for line in lines]
    else:
        lines.append(assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{SETTINGS_FILE}.tmp")
    scratch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    scratch.replace(path)  # whole or not at all: a later command never reads half a file
    return path


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
        #: from the request's Host header; requests for any other host are refused. Without
        #: the variable, the one `make run` recorded in the instance settings (see above).
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
        #: Anonymous visitors' public pages are shared from memory this long (0: never).
        "PUBLIC_PAGE_CACHE_SECONDS": int(os.environ.get("PUBLIC_PAGE_CACHE_SECONDS", "10")),
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
        #: The staff member a system mail names as responsible when nobody in particular
        #: acted (charter standard 11); a mail about a staff member's action names them.
        "MAIL_CONTACT_NAME": os.environ.get("MAIL_CONTACT_NAME", "교육운영팀"),
        "MAIL_CONTACT_EMAIL": os.environ.get("MAIL_CONTACT_EMAIL", "edu@coursedesk.invalid"),
        "MAIL_CONTACT_PHONE": os.environ.get("MAIL_CONTACT_PHONE", "02-000-0000"),
        #: Message-IDs are made on this domain (default: the sender's).
        "MAIL_MESSAGE_ID_DOMAIN": os.environ.get("MAIL_MESSAGE_ID_DOMAIN"),
        #: DKIM signing (dkimpy) when a private key file is configured.
        "DKIM_PRIVATE_KEY_PATH": os.environ.get("DKIM_PRIVATE_KEY_PATH"),
        "DKIM_SELECTOR": os.environ.get("DKIM_SELECTOR", "coursedesk"),
        "DKIM_DOMAIN": os.environ.get("DKIM_DOMAIN"),
    }
