"""Migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.core.extensions import db
from tests.conftest import POSTGRES_URL


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


@pytest.mark.skipif(not POSTGRES_URL, reason="runs in the PostgreSQL pass (TEST_DATABASE_URL)")
def test_migrations_build_the_model_schema_on_postgresql() -> None:
    with scratch_postgres_database() as url:
        assert_migrations_match_models(url)
