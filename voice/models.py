"""The customers' voice desk (고객의 소리, standard 12): inquiries, proposals and complaints,
the replies to them, and the decision or corrective action that closes a proposal or a
complaint."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.accounts.models import User
from app.core.extensions import db, enum_type
from app.core.timeutil import UTCDateTime, utcnow


class VoiceKind(enum.StrEnum):
    INQUIRY = "inquiry"
    PROPOSAL = "proposal"
    COMPLAINT = "complaint"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    VoiceKind.INQUIRY: _l("Inquiry"),
    VoiceKind.PROPOSAL: _l("Proposal"),
    VoiceKind.COMPLAINT: _l("Complaint"),
}


class VoiceState(enum.StrEnum):
    #: Filed, nobody has replied yet: the SLA clock runs.
    RECEIVED = "received"
    #: An interim reply, a reply to a proposal or complaint awaiting its decision or
    #: corrective action, or a follow-up of the filer's after the answer.
    IN_PROGRESS = "in_progress"
    #: An inquiry answered in full.
    ANSWERED = "answered"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])


STATE_LABELS = {
    VoiceState.RECEIVED: _l("Received, not answered yet"),
    VoiceState.IN_PROGRESS: _l("In progress"),
    VoiceState.ANSWERED: _l("Answered"),
    VoiceState.CLOSED: _l("Closed"),
}

#: The states of open work (the staff queue shows them first).
OPEN_STATES = (VoiceState.RECEIVED, VoiceState.IN_PROGRESS, VoiceState.ANSWERED)


class ProposalOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    PARTLY = "partly"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return str(OUTCOME_LABELS[self])


OUTCOME_LABELS = {
    ProposalOutcome.ACCEPTED: _l("Accepted in full"),
    ProposalOutcome.PARTLY: _l("Partly accepted"),
    ProposalOutcome.REJECTED: _l("Not accepted"),
}


class ClockState(enum.StrEnum):
    """Where an item stands against its due time (derived, never stored: see
    `voice.services.clock` and its SQL twin `clock_condition`)."""

    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    #: Replied by the due time.
    MET = "met"
    #: Replied after the due time.
    LATE = "late"

    @property
    def label(self) -> str:
        return str(CLOCK_LABELS[self])


CLOCK_LABELS = {
    ClockState.ON_TIME: _l("On time"),
    ClockState.DUE_SOON: _l("Due soon"),
    ClockState.OVERDUE: _l("Overdue"),
    ClockState.MET: _l("Answered in time"),
    ClockState.LATE: _l("Answered late"),
}


class VoiceItem(db.Model):
    """One inquiry, proposal or complaint, followed by its filer through a secret link."""

    __tablename__ = "voice_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The secret of the follow link `/voice/<token>` (`secrets.token_urlsafe(24)`).
    token: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[VoiceKind] = mapped_column(enum_type(VoiceKind), index=True)
    #: Indexed with due_at (ix_voice_items_open_due): the queue reads open items by due time.
    state: Mapped[VoiceState] = mapped_column(enum_type(VoiceState), default=VoiceState.RECEIVED)
    subject: Mapped[str] = mapped_column(String(200))
    #: What the filer wrote, in their words.
    message: Mapped[str] = mapped_column(Text)
    #: Who filed it and where the answer goes (copied from the account when signed in).
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    #: The filer's account, when they were signed in.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: The course it is about, if any.
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    #: When the filer agreed to the processing of their data for the answer.
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: `response_due_at(filed_at)`: the first reply (an interim one counts) is due by then.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The first reply to the filer: the SLA clock stops here.
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The filer's latest follow-up message.
    last_follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The staff member handling it (standard 11), by default the first who takes or replies.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: A proposal's review result; null for inquiries and complaints.
    outcome: Mapped[ProposalOutcome | None] = mapped_column(enum_type(ProposalOutcome))
    #: The review of a proposal or the measures taken on a complaint, as reported by mail.
    resolution: Mapped[str | None] = mapped_column(Text)
    #: When the decision or corrective action was recorded; its mail to the filer was
    #: queued in the same transaction, so this is also when it was reported.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the retention rule (or an erasure) removed the personal data; the figures stay.
    scrubbed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id], lazy="joined")
    messages: Mapped[list[VoiceMessage]] = relationship(
        lazy="raise",
        order_by="VoiceMessage.created_at, VoiceMessage.id",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        CheckConstraint("outcome IS NULL OR kind = 'proposal'", name="outcome_of_a_proposal"),
        CheckConstraint(
            "resolved_at IS NULL OR kind IN ('proposal', 'complaint')",
            name="resolution_of_a_proposal_or_complaint",
        ),
        CheckConstraint("due_at > filed_at", name="due_after_filing"),
        CheckConstraint(
            "first_reply_at IS NULL OR first_reply_at >= filed_at", name="reply_after_filing"
        ),
        Index("ix_voice_items_open_due", "state", "due_at"),
    )


class VoiceMessage(db.Model):
    """A message in an item's thread: a staff member's reply or the filer's follow-up."""

    __tablename__ = "voice_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("voice_items.id", ondelete="CASCADE"), index=True
    )
    #: True for the institute's replies, False for the filer's follow-ups.
    from_staff: Mapped[bool]
    #: The staff member who replied (named with their contact, standard 11), or the filer's
    #: account when signed in.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    #: An interim reply: the full answer follows (it still stops the SLA clock).
    interim: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (CheckConstraint("NOT interim OR from_staff", name="interim_from_staff"),)
