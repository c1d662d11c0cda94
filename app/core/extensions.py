"""Flask extensions, created once without an app and initialised in the factory."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Enum, MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints so that Alembic can alter them on every engine.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def render_migration_item(type_: str, obj, autogen_context):
    """Write our UTCDateTime as a plain DateTime, so migrations never import app code."""
    from app.core.timeutil import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)


def enum_type(enum_class: type) -> Enum:
    """A StrEnum column: stored as its value in a VARCHAR, loaded back as the enum member."""
    return Enum(
        enum_class,
        native_enum=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def insert_ignoring_conflicts(table, *, on: list[str]):
    """INSERT ... ON CONFLICT (on) DO NOTHING, in the dialect of the session's database.

    The database, not a prior SELECT, decides who wins when two writers race for the same
    unique key; the loser's statement simply inserts nothing.
    """
    return _dialect_insert(table).on_conflict_do_nothing(index_elements=on)


def insert_adding_on_conflict(table, rows: list[dict], *, on: list[str], add: list[str]):
    """INSERT ... ON CONFLICT (on) DO UPDATE SET column = column + the new row's value, for
    each column of `add`: counters kept by several writers, summed by the database."""
    statement = _dialect_insert(table).values(rows)
    return statement.on_conflict_do_update(
        index_elements=on,
        set_={name: table.c[name] + statement.excluded[name] for name in add},
    )


def _dialect_insert(table):
    """An INSERT of the session's database dialect, which has ON CONFLICT."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    dialect = db.session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def lock_row(column, row_id: int) -> None:
    """Lock one row until the transaction ends, with a no-op UPDATE of `column`.

    The UPDATE takes the row lock on PostgreSQL and the write lock on SQLite (whose
    `FOR UPDATE` is silently ignored), so it is the one statement that serialises
    on both engines.
    """
    from sqlalchemy import update

    model = column.class_
    db.session.execute(
        update(model)
        .where(model.id == row_id)
        .values({column: column})
        .execution_options(synchronize_session=False)
    )
