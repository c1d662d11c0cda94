"""Courses, their materials and the annual calendar."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.accounts.models import User
from app.extensions import db, enum_type
from app.timeutil import UTCDateTime, to_local, utcnow
from app.vocabulary import Region


class Audience(enum.StrEnum):
    EXECUTIVES = "executives"
    PRACTITIONERS = "practitioners"
    NEWCOMERS = "newcomers"
    ALL = "all"

    @property
    def label(self) -> str:
        return str(AUDIENCE_LABELS[self])


AUDIENCE_LABELS = {
    Audience.EXECUTIVES: _l("Executives"),
    Audience.PRACTITIONERS: _l("Practitioners"),
    Audience.NEWCOMERS: _l("Newcomers"),
    Audience.ALL: _l("Everyone"),
}


class SizeFocus(enum.StrEnum):
    SME = "sme"
    MIDSIZE = "midsize"
    LARGE = "large"
    ALL = "all"

    @property
    def label(self) -> str:
        return str(SIZE_FOCUS_LABELS[self])


SIZE_FOCUS_LABELS = {
    SizeFocus.SME: _l("SMEs"),
    SizeFocus.MIDSIZE: _l("Mid-size companies"),
    SizeFocus.LARGE: _l("Large enterprises"),
    SizeFocus.ALL: _l("All company sizes"),
}


class CourseFormat(enum.StrEnum):
    CLASSROOM = "classroom"
    ONLINE = "online"
    ONSITE = "onsite"

    @property
    def label(self) -> str:
        return str(FORMAT_LABELS[self])


FORMAT_LABELS = {
    CourseFormat.CLASSROOM: _l("Classroom"),
    CourseFormat.ONLINE: _l("Online"),
    CourseFormat.ONSITE: _l("On-site"),
}


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])

    def can_become(self, target: CourseStatus) -> bool:
        return target in COURSE_TRANSITIONS[self]


STATUS_LABELS = {
    CourseStatus.DRAFT: _l("Draft"),
    CourseStatus.PUBLISHED: _l("Published"),
    CourseStatus.CANCELLED: _l("Cancelled"),
}

#: The allowed status changes; a cancelled course stays cancelled.
COURSE_TRANSITIONS: dict[CourseStatus, frozenset[CourseStatus]] = {
    CourseStatus.DRAFT: frozenset({CourseStatus.PUBLISHED, CourseStatus.CANCELLED}),
    CourseStatus.PUBLISHED: frozenset({CourseStatus.CANCELLED}),
    CourseStatus.CANCELLED: frozenset(),
}


course_instructors = Table(
    "course_instructors",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Calendar year the course belongs to (the local year of its start).
    year: Mapped[int] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    #: Detailed content and curriculum, plain text with line breaks.
    content: Mapped[str] = mapped_column(Text)
    audience: Mapped[Audience] = mapped_column(enum_type(Audience))
    size_focus: Mapped[SizeFocus] = mapped_column(enum_type(SizeFocus))
    format: Mapped[CourseFormat] = mapped_column(enum_type(CourseFormat))
    region: Mapped[Region] = mapped_column(enum_type(Region))
    venue: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    capacity: Mapped[int]
    #: Seats already taken; the database refuses a value above capacity.
    seats_taken: Mapped[int] = mapped_column(default=0)
    #: Fee in won; 0 for free courses.
    fee: Mapped[int] = mapped_column(default=0)
    status: Mapped[CourseStatus] = mapped_column(
        enum_type(CourseStatus), default=CourseStatus.DRAFT
    )
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    instructors: Mapped[list[User]] = relationship(
        secondary=course_instructors, lazy="raise", order_by=User.name
    )
    materials: Mapped[list[Material]] = relationship(
        back_populates="course", lazy="raise", order_by="Material.uploaded_at.desc()"
    )

    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"
        ),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("hours > 0", name="hours_positive"),
        CheckConstraint("fee >= 0", name="fee_not_negative"),
        CheckConstraint("status IN ('draft', 'published', 'cancelled')", name="status_known"),
    )

    @hybrid_property
    def is_public(self) -> bool:
        """Shown to the public: published (a cancelled course keeps its page but not its seats)."""
        return self.status == CourseStatus.PUBLISHED

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def local_start(self) -> datetime:
        return to_local(self.starts_at)

    @property
    def local_end(self) -> datetime:
        return to_local(self.ends_at)

    @property
    def month(self) -> int:
        return self.local_start.month


class Material(db.Model):
    """An uploaded course material. Uploading under the same title adds a newer version."""

    __tablename__ = "course_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    course: Mapped[Course] = relationship(back_populates="materials", lazy="raise")


class CalendarYear(db.Model):
    """A year's course calendar; the public sees it once it is published as a whole."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: Foreword printed on the leaflet and the calendar page.
    foreword: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    published_by: Mapped[User | None] = relationship(lazy="joined")

    @hybrid_property
    def is_published(self) -> bool:
        return self.published_at is not None

    @is_published.inplace.expression
    @classmethod
    def _is_published_expression(cls):
        return cls.published_at.is_not(None)
