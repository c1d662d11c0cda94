"""A year's service-standards report as staff published it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.accounts.models import User
from app.core.extensions import db
from app.core.timeutil import UTCDateTime


class PublishedReport(db.Model):
    """The figures of one year as they stood when staff published them: the public page
    shows this snapshot, so a report once published does not change under its readers
    until staff publish it again."""

    __tablename__ = "standards_reports"
    __table_args__ = (CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),)

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: `StandardsReport.to_dict()`: every standard's state and measures, and when computed.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    published_by: Mapped[User | None] = relationship(lazy="joined")
