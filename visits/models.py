"""Custom on-site training requests (standard 4) and their participant sign-ups."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Company, User
from app.extensions import db, enum_type
from app.timeutil import UTCDateTime, utcnow
from app.vocabulary import Region
from courses.models import Audience


class RequestState(enum.StrEnum):
    DRAFT = "draft"
    COLLECTING = "collecting"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SCHEDULED = "scheduled"
    DELIVERED = "delivered"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"

    @property
    def label(self) -> str:
        return str(REQUEST_STATE_LABELS[self])

    def can_become(self, target: RequestState) -> bool:
        return target in REQUEST_TRANSITIONS[self]


REQUEST_STATE_LABELS = {
    RequestState.DRAFT: _l("Draft"),
    RequestState.COLLECTING: _l("Collecting sign-ups"),
    RequestState.SUBMITTED: _l("Submitted"),
    RequestState.ACCEPTED: _l("Accepted"),
    RequestState.DECLINED: _l("Declined"),
    RequestState.SCHEDULED: _l("Training scheduled"),
    RequestState.DELIVERED: _l("Delivered"),
    RequestState.CLOSED: _l("Closed"),
    RequestState.WITHDRAWN: _l("Withdrawn"),
    RequestState.LAPSED: _l("Lapsed"),
}

#: The life of a request. Submission also needs enough sign-ups (checked in services).
REQUEST_TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    RequestState.DRAFT: frozenset({RequestState.COLLECTING, RequestState.WITHDRAWN}),
    RequestState.COLLECTING: frozenset(
        {RequestState.SUBMITTED, RequestState.WITHDRAWN, RequestState.LAPSED}
    ),
    RequestState.SUBMITTED: frozenset(
        {RequestState.ACCEPTED, RequestState.DECLINED, RequestState.WITHDRAWN}
    ),
    RequestState.ACCEPTED: frozenset({RequestState.SCHEDULED, RequestState.WITHDRAWN}),
    RequestState.SCHEDULED: frozenset({RequestState.DELIVERED}),
    RequestState.DELIVERED: frozenset({RequestState.CLOSED}),
    RequestState.DECLINED: frozenset(),
    RequestState.CLOSED: frozenset(),
    RequestState.WITHDRAWN: frozenset(),
    RequestState.LAPSED: frozenset(),
}

#: States in which people may still sign up.
OPEN_FOR_SIGNUPS = (RequestState.COLLECTING, RequestState.SUBMITTED, RequestState.ACCEPTED)


class OnsiteRequest(db.Model):
    __tablename__ = "onsite_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[RequestState] = mapped_column(
        enum_type(RequestState), default=RequestState.DRAFT, index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    #: What the company wants taught, in its words.
    content: Mapped[str] = mapped_column(Text)
    #: Subjects picked from the course catalog.
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Two or three preferred dates or periods, as the company wrote them.
    preferred_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    address: Mapped[str] = mapped_column(String(300))
    region: Mapped[Region] = mapped_column(enum_type(Region))
    audience: Mapped[Audience] = mapped_column(enum_type(Audience))
    expected_headcount: Mapped[int]
    #: Seats at the company's venue; sign-ups beyond it are refused (None: no limit given).
    venue_capacity: Mapped[int | None]
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(30))
    contact_email: Mapped[str] = mapped_column(String(254))
    notes: Mapped[str] = mapped_column(Text, default="")
    #: Secret in the sign-up link the company shares with its employees.
    share_token: Mapped[str] = mapped_column(String(64), unique=True)
    #: Sign-ups needed before the request can be submitted (the charter says 10).
    threshold: Mapped[int]
    signup_deadline: Mapped[date | None] = mapped_column(Date)
    deadline_extended: Mapped[bool] = mapped_column(default=False)
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    #: The staff member answering for the request (standard 11), set by the first staff action.
    responsible_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When staff first accepted or declined: the SLA clock stops here.
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    company: Mapped[Company] = relationship(lazy="joined")
    responsible_staff: Mapped[User | None] = relationship(
        foreign_keys=[responsible_staff_id], lazy="joined"
    )


class Signup(db.Model):
    """An employee's sign-up for a request; counted once the e-mail address is confirmed."""

    __tablename__ = "onsite_signups"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("onsite_requests.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    #: Lower-cased; one sign-up per address and request.
    email: Mapped[str] = mapped_column(String(254))
    department: Mapped[str] = mapped_column(String(100), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirm_token: Mapped[str] = mapped_column(String(64), unique=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("request_id", "email", name="uq_onsite_signups_request_email"),
    )


class Quote(db.Model):
    """A price for paid in-house training; the company accepts it in the app."""

    __tablename__ = "onsite_quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("onsite_requests.id", ondelete="CASCADE"), index=True
    )
    #: [{"label": ..., "amount": won}, ...]
    items: Mapped[list[dict]] = mapped_column(JSON, default=list)
    amount: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
