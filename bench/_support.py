"""Pieces the benchmarks share: a scratch PostgreSQL database and app clean-up."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from app.core.extensions import db


class Unreachable(Exception):
    """The PostgreSQL server cannot be reached: the benchmark skips that engine."""


def dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[tuple[str, str]]:
    """A fresh database on the server of `url`, dropped on exit; never the one `url` names."""
    admin = create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
    )
    name = f"coursedesk_bench_{secrets.token_hex(4)}"
    try:
        try:
            connection = admin.connect()
        except OperationalError as error:
            where = make_url(url).render_as_string(hide_password=True)
            reason = " ".join(str(error.orig).split())[:200]
            raise Unreachable(
                f"PostgreSQL skipped: cannot connect to {where} ({reason})"
            ) from error
        with connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            scratch = make_url(url).set(database=name)
            yield scratch.render_as_string(hide_password=False), version.split()[0]
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def count_released_answers(conn) -> None:
    """Fill the survey report tallies from responses and answers inserted directly (as a
    release would have counted them), with the SQL of the migration that introduced them."""
    import importlib.util
    from types import SimpleNamespace

    path = Path(__file__).resolve().parent.parent / "migrations/versions/0012_survey_tallies.py"
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration.op = SimpleNamespace(execute=lambda sql: conn.execute(text(sql)))
    migration._count_what_was_released()
