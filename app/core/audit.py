"""The audit log: who changed what, and when. Every staff or instructor write calls `record`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.accounts.models import User
from app.core.erasure import Person, scrub_columns
from app.core.extensions import db
from app.core.timeutil import UTCDateTime, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: Null for system actions (CLI, cron).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: A dotted verb such as "course.create" or "calendar.publish".
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str | None] = mapped_column(String(50))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(lazy="raise")


def record(
    action: str,
    obj: Any = None,
    *,
    by: User | None,
    object_type: str | None = None,
    **details: Any,
) -> AuditEntry:
    """Add an audit entry to the current transaction (it commits with the change it records)."""
    entry = AuditEntry(
        actor_id=by.id if by is not None else None,
        action=action,
        object_type=object_type or (obj.__tablename__ if obj is not None else "system"),
        object_id=_primary_key(obj),
        details={key: _jsonable(value) for key, value in details.items()},
    )
    db.session.add(entry)
    return entry


def _primary_key(obj: Any) -> str | None:
    if obj is None:
        return None
    state = inspect(obj)
    if state.identity is None:  # pending: flush to get its key
        db.session.flush()
    return ",".join(str(part) for part in state.identity)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def scrub(person: Person) -> int:
    """Standard 10: replace the person's e-mail address, name and phone inside every entry's
    details with the placeholder that points at their pseudonymised account.

    The entries themselves stay (who did what, when, to which object): the log must still
    account for every staff action. Returns the number of entries changed.
    """
    return scrub_columns(AuditEntry, ["details"], person)
