"""BASE_URL outlives `make run`: the commands run later from cron link to the same address.

`make run PORT=8080` serves on 8080 and records BASE_URL in instance/settings.py; a cron
job (`flask --app app announce-due`, `outbox send`) starts without the variable and must
not fall back to the default port 5000. The environment still wins over the file.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from app import create_app
from app.config import SETTINGS_FILE, instance_settings, record_setting
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from app.core.timeutil import utcnow
from courses.models import Subscriber
from tests.factories import make_course

RECORDED = "http://127.0.0.1:8123"


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """An instance folder in which `make run` recorded the port it served on."""
    folder = tmp_path / "instance"
    record_setting("BASE_URL", RECORDED, folder)
    return folder


def command_line_app(database_url: str, instance: Path) -> Flask:
    """The app as `flask --app app <command>` builds it: nothing about BASE_URL passed in."""
    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False},
        instance_path=instance,
    )


def newsletter_links_after_announce_due(cli_app: Flask) -> list[str]:
    """Run `announce-due` on `cli_app` for a course due and one reader; the links it mailed."""
    starts = datetime.now(ZoneInfo("Asia/Seoul")).replace(tzinfo=None) + timedelta(days=10)
    make_course(starts=starts)
    db.session.add(Subscriber(email="reader@example.com", token="t" * 43, confirmed_at=utcnow()))
    db.session.commit()

    with cli_app.app_context():  # else the command would run in the test's own app
        result = cli_app.test_cli_runner().invoke(args=["announce-due"])

    assert result.exit_code == 0, result.output
    assert "1 announced" in result.output
    db.session.rollback()
    return list(db.session.execute(select(OutboxMessage.unsubscribe_url)).scalars())


def test_a_command_without_base_url_in_its_environment_uses_the_recorded_one(
    app, database_url: str, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BASE_URL", raising=False)
    cli_app = command_line_app(database_url, instance)

    assert cli_app.config["BASE_URL"] == RECORDED
    (link,) = newsletter_links_after_announce_due(cli_app)
    assert link.startswith(f"{RECORDED}/newsletter/unsubscribe/")


def test_base_url_in_the_environment_wins_over_the_recorded_one(
    app, database_url: str, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASE_URL", "https://edu.example.org")
    cli_app = command_line_app(database_url, instance)

    assert cli_app.config["BASE_URL"] == "https://edu.example.org"
    assert cli_app.config["TRUSTED_HOSTS"] == ["edu.example.org"]
    (link,) = newsletter_links_after_announce_due(cli_app)
    assert link.startswith("https://edu.example.org/newsletter/unsubscribe/")


def test_without_a_record_or_the_variable_the_default_stays(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BASE_URL", raising=False)
    assert command_line_app(database_url, tmp_path).config["BASE_URL"] == "http://127.0.0.1:5000"


def test_recording_again_replaces_the_value_and_keeps_the_other_settings(instance: Path) -> None:
    settings = instance / SETTINGS_FILE
    settings.write_text(settings.read_text() + "MAIL_SERVER = 'smtp.example.org'\n")

    record_setting("BASE_URL", "http://127.0.0.1:8080", instance)

    lines = settings.read_text().splitlines()
    assert [line for line in lines if line.startswith("BASE_URL")] == [
        "BASE_URL = 'http://127.0.0.1:8080'"
    ]
    assert "MAIL_SERVER = 'smtp.example.org'" in lines
    assert not list(instance.glob(".*.tmp"))


def test_any_value_is_recorded_as_a_python_literal(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BASE_URL", raising=False)
    odd = 'http://127.0.0.1:8080/it\'s "quoted"\n# not a comment'

    record_setting("BASE_URL", odd, instance)

    assert instance_settings(instance)["BASE_URL"] == odd
