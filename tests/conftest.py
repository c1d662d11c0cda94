"""Test fixtures: a real database per test (SQLite by default, PostgreSQL via TEST_DATABASE_URL).

SQLite gets a fresh file and schema for every test. PostgreSQL builds the schema once per
run and truncates every table before each test, which is several times faster there than
recreating it, and still leaves each test a clean database with real commits.
"""

from __future__ import annotations

import contextvars
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.config import normalise_database_url
from app.core.extensions import db

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {'PostgreSQL' if POSTGRES_URL else 'SQLite'}"


def _config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "BASE_URL": "http://localhost",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        # Tests change data between anonymous requests; test_page_cache turns it on.
        "PUBLIC_PAGE_CACHE_SECONDS": 0,
    }


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str | None]:
    """On PostgreSQL, build the schema once for the whole run."""
    if not POSTGRES_URL:
        yield None
        return
    url = normalise_database_url(POSTGRES_URL)
    app = create_app(_config(url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    yield url


@pytest.fixture
def database_url(tmp_path: Path, postgres_schema: str | None) -> str:
    return postgres_schema or f"sqlite:///{tmp_path / 'test.sqlite3'}"


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    Without this, requests reuse the test's app context: `g` (the signed-in user, the CSRF
    token) and the database session would leak from one request into the next.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app_config(database_url: str) -> dict:
    """The test app's configuration; a test module may override this fixture."""
    return _config(database_url)


@pytest.fixture
def app(app_config: dict, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(app_config)
    app.config.setdefault("DOCUMENT_CACHE_DIR", str(tmp_path / "documents"))
    app.test_client_class = IsolatedClient
    with app.app_context():
        if database_url.startswith("sqlite"):
            db.create_all()
        else:
            tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    page = client.get("/auth/login").get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def post_form(client: FlaskClient, url: str, data: dict | None = None, **kwargs):
    """POST a form with a valid CSRF token, like a browser submitting the page's form."""
    payload = {"csrf_token": csrf_token(client), **(data or {})}
    return client.post(url, data=payload, **kwargs)


def login(client: FlaskClient, email: str, password: str = "correct horse battery") -> None:
    response = post_form(client, "/auth/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


class RecordingHandler:
    """An aiosmtpd handler that keeps every accepted message."""

    def __init__(self) -> None:
        self.messages: list = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.raw.append(envelope.content)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class LoopbackSmtp:
    """A real SMTP server on 127.0.0.1 that the test can stop and start again."""

    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = None

    @property
    def messages(self) -> list:
        return self.handler.messages

    @property
    def raw(self) -> list[bytes]:
        """The messages as they crossed the wire, byte for byte."""
        return self.handler.raw

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[LoopbackSmtp]:
    """A real SMTP server on loopback; the app is configured to deliver to it."""
    server = LoopbackSmtp()
    server.start()
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    yield server
    server.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
