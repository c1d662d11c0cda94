"""Custom on-site training requests (standard 4) and CP mentoring cases (standard 9)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.accounts.models import Company, User
from app.core.extensions import db, enum_type
from app.core.timeutil import UTCDateTime, utcnow
from app.core.vocabulary import Region
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


# --- CP mentoring ("home doctor") ------------------------------------------------------


class CpStatus(enum.StrEnum):
    NONE = "none"
    BUILDING = "building"
    DESIGNATED = "designated"

    @property
    def label(self) -> str:
        return str(CP_STATUS_LABELS[self])


CP_STATUS_LABELS = {
    CpStatus.NONE: _l("No compliance programme yet"),
    CpStatus.BUILDING: _l("Building a compliance programme"),
    CpStatus.DESIGNATED: _l("Designated compliant trader"),
}


class MentoringNeed(enum.StrEnum):
    CRITERIA = "criteria"
    SYSTEM = "system"
    PRIVILEGES = "privileges"
    TRAINING = "training"

    @property
    def label(self) -> str:
        return str(NEED_LABELS[self])


NEED_LABELS = {
    MentoringNeed.CRITERIA: _l("CP designation criteria"),
    MentoringNeed.SYSTEM: _l("Building the CP system"),
    MentoringNeed.PRIVILEGES: _l("Using CP privileges (e.g. bulk export licences)"),
    MentoringNeed.TRAINING: _l("Paid in-house training"),
}


class CaseState(enum.StrEnum):
    APPLIED = "applied"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(CASE_STATE_LABELS[self])

    def can_become(self, target: CaseState) -> bool:
        return target in CASE_TRANSITIONS[self]


CASE_STATE_LABELS = {
    CaseState.APPLIED: _l("Applied"),
    CaseState.ASSIGNED: _l("Mentor assigned"),
    CaseState.IN_PROGRESS: _l("In progress"),
    CaseState.CLOSED: _l("Closed"),
}

CASE_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.APPLIED: frozenset({CaseState.ASSIGNED, CaseState.CLOSED}),
    CaseState.ASSIGNED: frozenset({CaseState.ASSIGNED, CaseState.IN_PROGRESS, CaseState.CLOSED}),
    CaseState.IN_PROGRESS: frozenset({CaseState.CLOSED}),
    CaseState.CLOSED: frozenset(),
}


class ChecklistStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"

    @property
    def label(self) -> str:
        return str(CHECKLIST_STATUS_LABELS[self])

    @property
    def weight(self) -> float:
        """How much an item counts towards readiness: done 1, under way ½."""
        return {"not_started": 0.0, "in_progress": 0.5, "done": 1.0}[self.value]


CHECKLIST_STATUS_LABELS = {
    ChecklistStatus.NOT_STARTED: _l("Not started"),
    ChecklistStatus.IN_PROGRESS: _l("Under way"),
    ChecklistStatus.DONE: _l("Done"),
}


class MentoringCase(db.Model):
    __tablename__ = "mentoring_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cp_status: Mapped[CpStatus] = mapped_column(enum_type(CpStatus))
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    preferred_dates: Mapped[str] = mapped_column(String(300))
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(30))
    contact_email: Mapped[str] = mapped_column(String(254))
    notes: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[CaseState] = mapped_column(
        enum_type(CaseState), default=CaseState.APPLIED, index=True
    )
    #: An instructor or a staff member who guides the company.
    mentor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    company: Mapped[Company] = relationship(lazy="joined")
    mentor: Mapped[User | None] = relationship(foreign_keys=[mentor_id], lazy="joined")


class MentoringVisit(db.Model):
    __tablename__ = "mentoring_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_cases.id", ondelete="CASCADE"), index=True
    )
    visited_on: Mapped[date] = mapped_column(Date)
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    attendees: Mapped[str] = mapped_column(String(500))
    topics: Mapped[str] = mapped_column(Text)
    findings: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    mentor: Mapped[User | None] = relationship(lazy="joined")
    actions: Mapped[list[FollowUpAction]] = relationship(
        lazy="selectin", order_by="FollowUpAction.due_on", cascade="all, delete-orphan"
    )


class FollowUpAction(db.Model):
    __tablename__ = "mentoring_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_visits.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_cases.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(String(500))
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)


class ChecklistItem(db.Model):
    """A CP designation criterion; staff keep the list."""

    __tablename__ = "cp_checklist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(default=True)


class CaseChecklistEntry(db.Model):
    __tablename__ = "cp_checklist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_cases.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("cp_checklist_items.id", ondelete="CASCADE"))
    status: Mapped[ChecklistStatus] = mapped_column(
        enum_type(ChecklistStatus), default=ChecklistStatus.NOT_STARTED
    )
    notes: Mapped[str] = mapped_column(String(1000), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("case_id", "item_id", name="uq_cp_checklist_entries_case_item"),
    )
