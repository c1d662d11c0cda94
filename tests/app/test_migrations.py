"""Migrations build the schema the models describe, on SQLite and on PostgreSQL, both ways."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, NamedTuple

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.core.extensions import db
from tests.conftest import POSTGRES_URL

postgresql_only = pytest.mark.skipif(
    not POSTGRES_URL, reason="runs in the PostgreSQL pass (TEST_DATABASE_URL)"
)


@contextmanager
def scratch_postgres_database():
    """A throw-away database beside the test database, dropped afterwards."""
    from app.config import normalise_database_url

    server = create_engine(normalise_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"coursedesk_migrations_{uuid.uuid4().hex[:8]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()


def assert_migrations_match_models(database_url: str) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []


def test_migrations_build_the_model_schema_on_sqlite(tmp_path) -> None:
    assert_migrations_match_models(f"sqlite:///{tmp_path / 'migrated.sqlite3'}")


@postgresql_only
def test_migrations_build_the_model_schema_on_postgresql() -> None:
    with scratch_postgres_database() as url:
        assert_migrations_match_models(url)


# --- Both ways: every downgrade runs, and undoes exactly what its upgrade did. ---------------


@contextmanager
def migrating_app(database_url: str) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        try:
            yield app
        finally:
            db.engine.dispose()


def revision_chain() -> list[tuple[str, str]]:
    """(revision, the revision below it or "base"), oldest first, for whatever revisions exist."""
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    assert len(script.get_heads()) == 1, f"the history has several heads: {script.get_heads()}"
    chain = [
        (revision.revision, revision.down_revision or "base")
        for revision in script.walk_revisions("base", "heads")
    ]
    return chain[::-1]


def migrate(direction: str, revision: str, target: str) -> None:
    """Run one migration command, failing with the revision's name instead of a bare error."""
    command = upgrade if direction == "upgrade" else downgrade
    try:
        command(revision=target)
    except (Exception, SystemExit) as error:  # flask_migrate turns CommandError into exit(1)
        pytest.fail(f"{direction} of revision {revision} (to {target}) failed: {error!r}")


def schema_snapshot() -> dict[str, Any]:
    """The application tables as the database reports them, comparable with ==."""
    with db.engine.connect() as connection:
        inspector = sa.inspect(connection)
        names = [name for name in inspector.get_table_names() if name != "alembic_version"]
        snapshot: dict[str, Any] = {}
        for name in sorted(names):
            snapshot[name] = {
                "columns": sorted(
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in inspector.get_columns(name)
                ),
                "primary key": inspector.get_pk_constraint(name)["constrained_columns"],
                "foreign keys": sorted(
                    (
                        fk["name"] or "",
                        tuple(fk["constrained_columns"]),
                        fk["referred_table"],
                        tuple(fk["referred_columns"]),
                        str(fk.get("options", {}).get("ondelete")),
                    )
                    for fk in inspector.get_foreign_keys(name)
                ),
                "indexes": sorted(
                    (ix["name"] or "", tuple(ix["column_names"]), bool(ix["unique"]))
                    for ix in inspector.get_indexes(name)
                ),
                "unique constraints": sorted(
                    (uq["name"] or "", tuple(uq["column_names"]))
                    for uq in inspector.get_unique_constraints(name)
                ),
                "check constraints": sorted(
                    (ck["name"] or "", ck["sqltext"])
                    for ck in inspector.get_check_constraints(name)
                ),
            }
        return snapshot


def leftovers() -> list[str]:
    """What remains of the schema besides Alembic's own table (and, on PostgreSQL, sequences)."""
    with db.engine.connect() as connection:
        inspector = sa.inspect(connection)
        names = [name for name in inspector.get_table_names() if name != "alembic_version"]
        if connection.dialect.name == "postgresql":
            names += [f"sequence {name}" for name in inspector.get_sequence_names()]
    return sorted(names)


# Lightweight tables with the columns every revision from 0002 to 0007 has, so the rows do not
# depend on the models (the columns added later have server defaults or are nullable).
users_table = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("name", sa.String),
    sa.column("role", sa.String),
    sa.column("password_hash", sa.String),
    sa.column("session_token", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("created_at", sa.DateTime),
)
courses_table = sa.table(
    "courses",
    *(
        sa.column(name, sa.String)
        for name in (
            "title",
            "summary",
            "content",
            "audience",
            "size_focus",
            "format",
            "region",
            "venue",
            "status",
        )
    ),
    *(
        sa.column(name, sa.Integer)
        for name in (
            "id",
            "year",
            "hours",
            "capacity",
            "seats_taken",
            "fee",
            "cancel_cutoff_days",
            "completion_threshold",
        )
    ),
    *(
        sa.column(name, sa.DateTime)
        for name in ("starts_at", "ends_at", "created_at", "updated_at")
    ),
)
enrollments_table = sa.table(
    "enrollments",
    sa.column("id", sa.Integer),
    sa.column("course_id", sa.Integer),
    sa.column("learner_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("queue_rank", sa.BigInteger),
    sa.column("source", sa.String),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)
SURVEY_ANSWERED, SURVEY_NOT_ANSWERED = 1, 2
START = datetime(2026, 3, 2, 9, 0)


def seed_course_and_enrollments(connection: sa.Connection) -> None:
    """Two learners enrolled on one course (revisions 0002 to 0007)."""
    learners = (SURVEY_ANSWERED, SURVEY_NOT_ANSWERED)
    connection.execute(
        sa.insert(users_table),
        [
            {
                "id": learner,
                "email": f"learner{learner}@example.org",
                "name": f"Learner {learner}",
                "role": "learner",
                "password_hash": "x",
                "session_token": f"token-{learner}",
                "active": True,
                "created_at": START,
            }
            for learner in learners
        ],
    )
    connection.execute(
        sa.insert(courses_table).values(
            id=1,
            year=2026,
            title="Export control basics",
            summary="",
            content="",
            audience="all",
            size_focus="all",
            format="classroom",
            region="seoul",
            venue="Room 1",
            status="published",
            hours=8,
            capacity=20,
            seats_taken=2,
            fee=0,
            cancel_cutoff_days=3,
            completion_threshold=80,
            starts_at=START,
            ends_at=START.replace(hour=17),
            created_at=START,
            updated_at=START,
        )
    )
    connection.execute(
        sa.insert(enrollments_table),
        [
            {
                "id": learner,
                "course_id": 1,
                "learner_id": learner,
                "status": "enrolled",
                "queue_rank": learner,
                "source": "self",
                "created_at": START,
                "updated_at": START,
            }
            for learner in learners
        ],
    )


def seed_survey_answers_at_0007(connection: sa.Connection) -> None:
    """Before 0008: one learner answered the post-course survey (on a day), one did not."""
    seed_course_and_enrollments(connection)
    connection.execute(
        text("UPDATE enrollments SET survey_answered_on = :day WHERE id = :id"),
        {"day": date(2026, 3, 3), "id": SURVEY_ANSWERED},
    )


def survey_column(connection: sa.Connection, column: str) -> dict[int, Any]:
    rows = connection.execute(text(f"SELECT id, {column} FROM enrollments ORDER BY id"))
    return {row.id: row[1] for row in rows}


def check_survey_flag(connection: sa.Connection) -> None:
    assert survey_column(connection, "survey_submitted") == {
        SURVEY_ANSWERED: True,
        SURVEY_NOT_ANSWERED: False,
    }


def check_survey_day(connection: sa.Connection) -> None:
    days = survey_column(connection, "survey_answered_on")
    # The day itself is gone after 0008; the downgrade stamps a day on the answered one only.
    assert days[SURVEY_ANSWERED] is not None
    assert days[SURVEY_NOT_ANSWERED] is None


class DataMigration(NamedTuple):
    """Rows put in just below a revision, checked after its upgrade and after its downgrade."""

    seed: Callable[[sa.Connection], None]
    check_upgraded: Callable[[sa.Connection], None]
    check_downgraded: Callable[[sa.Connection], None]


DATA_MIGRATIONS = {
    "0008": DataMigration(seed_survey_answers_at_0007, check_survey_flag, check_survey_day),
}


def run_check(check: Callable[[sa.Connection], None]) -> None:
    with db.engine.connect() as connection:
        check(connection)


def assert_migrations_run_both_ways(database_url: str) -> None:
    with migrating_app(database_url):
        chain = revision_chain()
        assert set(DATA_MIGRATIONS) <= {revision for revision, _ in chain}

        # One revision at a time: upgrade, downgrade, upgrade again; the schema comes back.
        for revision, below in chain:
            data = DATA_MIGRATIONS.get(revision)
            if data:
                with db.engine.begin() as connection:
                    data.seed(connection)
            migrate("upgrade", revision, revision)
            if data:
                run_check(data.check_upgraded)
            upgraded = schema_snapshot()

            migrate("downgrade", revision, below)
            if data:
                run_check(data.check_downgraded)
            migrate("upgrade", revision, revision)
            if data:
                run_check(data.check_upgraded)
            assert schema_snapshot() == upgraded, (
                f"revision {revision}: downgrade then upgrade leaves a different schema"
            )

        # All the way down (with the rows above still in the tables) and up again.
        migrate("downgrade", "head", "base")
        assert leftovers() == []
        migrate("upgrade", "head", "head")

    assert_migrations_match_models(database_url)


def test_migrations_run_both_ways_on_sqlite(tmp_path) -> None:
    assert_migrations_run_both_ways(f"sqlite:///{tmp_path / 'both_ways.sqlite3'}")


@postgresql_only
def test_migrations_run_both_ways_on_postgresql() -> None:
    with scratch_postgres_database() as url:
        assert_migrations_run_both_ways(url)


# --- Rows survive: batch mode rebuilds SQLite tables, which must not cascade to their rows. --
# The app turns SQLite's foreign keys on for every connection; with them on, the DROP of the
# old copy of a rebuilt table (courses in 0003 and 0005, enrollments in 0008) deletes the rows
# that refer to it (ON DELETE CASCADE) or fails (RESTRICT). migrations/env.py must switch them
# off while it migrates.


def seed_course_with_learners_at_0002(connection: sa.Connection) -> None:
    """A course with an instructor, a session, two enrolments and an attendance mark."""
    seed_course_and_enrollments(connection)
    connection.execute(
        text("INSERT INTO course_instructors (course_id, user_id) VALUES (1, :user)"),
        {"user": SURVEY_NOT_ANSWERED},
    )
    connection.execute(
        text(
            "INSERT INTO course_sessions (id, course_id, starts_at, ends_at, hours, checkin_code)"
            " VALUES (1, 1, :starts_at, :ends_at, 8, 'ABC234')"
        ).bindparams(
            sa.bindparam("starts_at", START, type_=sa.DateTime),
            sa.bindparam("ends_at", START.replace(hour=17), type_=sa.DateTime),
        )
    )
    connection.execute(
        text(
            "INSERT INTO attendance (id, session_id, enrollment_id, status, marked_at)"
            " VALUES (1, 1, :enrollment, 'present', :marked_at)"
        ).bindparams(
            sa.bindparam("enrollment", SURVEY_ANSWERED),
            sa.bindparam("marked_at", START, type_=sa.DateTime),
        )
    )


SEEDED_TABLES = (
    "users",
    "courses",
    "course_instructors",
    "course_sessions",
    "enrollments",
    "attendance",
)


def row_counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in SEEDED_TABLES
        }


def assert_migrations_keep_the_rows(database_url: str) -> None:
    with migrating_app(database_url):
        chain = revision_chain()
        revisions = [revision for revision, _ in chain]
        later = chain[revisions.index("0002") + 1 :]
        migrate("upgrade", "0002", "0002")
        with db.engine.begin() as connection:
            seed_course_with_learners_at_0002(connection)
        seeded = row_counts()
        assert seeded == {table: 2 if table in ("users", "enrollments") else 1 for table in seeded}

        for revision, _ in later:
            migrate("upgrade", revision, revision)
            assert row_counts() == seeded, f"the upgrade to {revision} lost rows"
        for revision, below in reversed(later):
            migrate("downgrade", revision, below)
            assert row_counts() == seeded, f"the downgrade of {revision} lost rows"


def test_migrations_keep_the_rows_on_sqlite(tmp_path) -> None:
    assert_migrations_keep_the_rows(f"sqlite:///{tmp_path / 'rows.sqlite3'}")


@postgresql_only
def test_migrations_keep_the_rows_on_postgresql() -> None:
    with scratch_postgres_database() as url:
        assert_migrations_keep_the_rows(url)
