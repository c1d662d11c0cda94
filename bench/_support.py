"""Pieces the benchmarks share: the survey answers their data are made of, a scratch PostgreSQL
database, app clean-up."""

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

# --- Survey answers the benchmarks' data sets are made of ---------------------------------

#: Weights of the answers 1..5 of a 5-point question, per kind of course.
LIKERT_PROFILES = (
    (1, 2, 8, 37, 52),  # a favourite
    (2, 4, 12, 40, 42),  # the usual
    (4, 8, 20, 38, 30),  # one that misses the target
)
PROFILE_WEIGHTS = (3, 5, 2)
COMMENTS = (
    "판정 실습 시간이 더 있었으면 좋겠습니다.",
    "사례 중심의 설명이 업무에 바로 도움이 되었습니다.",
    "교재의 법령 개정 내용이 최신이라 좋았습니다.",
    "온라인 접속이 가끔 끊겼습니다. 점검 부탁드립니다.",
    "강사님 설명이 명확하고 질의응답이 충분했습니다.",
    "심화 과정도 개설해 주시면 꼭 듣고 싶습니다.",
)


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
