"""Gunicorn settings, read from the environment (`make serve`, deploy/coursedesk.service).

gunicorn reads this file from the working directory by itself; a command-line option
(`-w 4`, `-b …`) wins over it.

BIND                      address to listen on (default 127.0.0.1:8000; a TLS proxy in front)
WEB_CONCURRENCY           worker processes (GUNICORN_WORKERS too; default 2 x CPUs + 1)
GUNICORN_TIMEOUT          seconds before a worker silent on one request is restarted (30)
GUNICORN_GRACEFUL_TIMEOUT seconds a worker gets to finish its request on stop or reload (30)
GUNICORN_MAX_REQUESTS     a worker is replaced after this many requests, 0 never (1000)
GUNICORN_PRELOAD          1: the app is imported once and the workers forked from it (1)
GUNICORN_LOG_LEVEL        gunicorn's own log level (info)
GUNICORN_CONTROL_SOCKET   path of gunicorn's control socket (gunicorn >= 24); off by default,
                          as several servers on one machine would share its default path
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int, *aliases: str) -> int:
    for key in (name, *aliases):
        if value := os.environ.get(key, "").strip():
            return int(value)
    return default


bind = os.environ.get("BIND", "127.0.0.1:8000")
#: Sync workers, one request each at a time: the work is the database and PDF rendering,
#: and the proxy in front buffers slow clients.
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1, "GUNICORN_WORKERS")
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
#: Replacing a worker now and then returns what WeasyPrint and the ORM held on to; the
#: jitter keeps the workers from all restarting at the same moment.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10
#: The app is imported once, in the master, and each worker is forked from it: a replaced
#: worker is serving within milliseconds instead of importing the app and WeasyPrint again
#: (about a second of CPU, which under load is a second of that worker's requests). So a
#: new release needs a restart; a HUP only replaces the workers, with the code they had.
preload_app = _int("GUNICORN_PRELOAD", 1) == 1
proc_name = "coursedesk"
accesslog = "-"  # to stdout: the journal or the container log keeps it
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
#: The app alone decides what to believe of X-Forwarded-* (TRUSTED_PROXIES, werkzeug's
#: ProxyFix); gunicorn would otherwise take X-Forwarded-Proto from any local peer.
secure_scheme_headers: dict[str, str] = {}
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")  # ignored by older gunicorn
control_socket_disable = not control_socket


def _setting(name: str, default: str | None) -> str | None:
    """An app setting as the app will see it: the environment, then instance/settings.py."""
    if name in os.environ:
        return os.environ[name]
    from app.config import instance_settings

    value = instance_settings().get(name, default)
    return None if value is None else str(value)


def post_fork(server, worker) -> None:
    """A worker never shares a database connection with its siblings: the pool it
    inherited (empty, unless the import queried) is dropped without closing the master's."""
    from app.core.extensions import db

    app = server.app.wsgi()
    if "sqlalchemy" not in getattr(app, "extensions", {}):
        return  # another WSGI app served with these settings (bench/serve.py's bare route)
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def when_ready(server) -> None:
    """Warn, once at start, about settings that cannot hold with several processes."""
    storage = _setting("RATELIMIT_STORAGE_URI", "memory://") or "memory://"
    limits_on = (_setting("RATELIMIT_ENABLED", "1") or "").strip().lower() in {
        "1", "true", "yes", "on",
    }
    if limits_on and storage.startswith("memory://") and server.cfg.workers > 1:
        server.log.warning(
            "RATELIMIT_STORAGE_URI is memory:// with %d workers: each process counts the "
            "rate limits (sign-in attempts) on its own, so they are %d times looser, and "
            "more again on several machines. Set RATELIMIT_STORAGE_URI=redis://HOST:6379/0, "
            "the same Redis for every process.",
            server.cfg.workers,
            server.cfg.workers,
        )
    if _setting("SECRET_KEY", None) is None:
        server.log.warning(
            "SECRET_KEY is not set: the key generated into instance/secret_key signs the "
            "sessions. On several machines set the same SECRET_KEY on each, or a session "
            "from one is refused by the others."
        )
