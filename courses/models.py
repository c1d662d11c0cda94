"""Courses, their materials and the annual calendar."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.core.accounts.models import User
from app.core.extensions import db, enum_type
from app.core.timeutil import UTCDateTime, to_local, utcnow
from app.core.vocabulary import Region


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


class Topic(enum.StrEnum):
    """The institute's subjects: what a course teaches and what people ask to be told of."""

    BASICS = "basics"
    CLASSIFICATION = "classification"
    DUAL_USE = "dual_use"
    TECH_TRANSFER = "tech_transfer"
    CATCH_ALL = "catch_all"
    CP_DESIGNATION = "cp_designation"
    CP_PRACTITIONER = "cp_practitioner"
    EXECUTIVE_RISK = "executive_risk"
    US_EAR = "us_ear"
    RUSSIA_SANCTIONS = "russia_sanctions"
    SME_BRIEFING = "sme_briefing"
    ONLINE_BASICS = "online_basics"

    @property
    def label(self) -> str:
        return str(TOPIC_LABELS[self])


TOPIC_LABELS = {
    Topic.BASICS: _l("Understanding strategic-goods export control"),
    Topic.CLASSIFICATION: _l("Classifying strategic goods in practice"),
    Topic.DUAL_USE: _l("Classifying dual-use items"),
    Topic.TECH_TRANSFER: _l("Technology transfer control"),
    Topic.CATCH_ALL: _l("Catch-all controls in practice"),
    Topic.CP_DESIGNATION: _l("Preparing for compliant-trader (CP) designation"),
    Topic.CP_PRACTITIONER: _l("CP practitioner course"),
    Topic.EXECUTIVE_RISK: _l("Export-control risk for executives"),
    Topic.US_EAR: _l("Understanding US export controls (EAR)"),
    Topic.RUSSIA_SANCTIONS: _l("Sanctions on Russia: recent developments"),
    Topic.SME_BRIEFING: _l("Briefing for SMEs"),
    Topic.ONLINE_BASICS: _l("Online basic course"),
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
    #: The subject in the institute's vocabulary; what notify-me sign-ups are matched on.
    topic: Mapped[Topic | None] = mapped_column(enum_type(Topic), index=True)
    #: When staff created the course from the demand page (standard 5); None otherwise.
    opened_on_demand_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
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
    #: iCalendar SEQUENCE of the course's events: raised whenever a change (time, place,
    #: cancellation) must replace what people already have in their calendars.
    calendar_sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Learners may cancel until this many days before the start (staff at any time).
    cancel_cutoff_days: Mapped[int] = mapped_column(default=3)
    #: Share of the session hours a learner must attend to complete the course, in percent.
    completion_threshold: Mapped[int] = mapped_column(default=80)
    #: When staff closed the course and completion was recorded, and who did.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Certificates wait for the learner's post-course survey when this is on.
    requires_survey: Mapped[bool] = mapped_column(default=True)
    #: A company's own on-site course: not in the public catalog, calendar or feeds.
    private: Mapped[bool] = mapped_column(default=False)
    #: The company a private on-site course is for; its contacts may see the course.
    private_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL")
    )
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
        CheckConstraint("cancel_cutoff_days >= 0", name="cancel_cutoff_not_negative"),
        CheckConstraint(
            "completion_threshold BETWEEN 1 AND 100", name="completion_threshold_percent"
        ),
    )

    @hybrid_property
    def is_public(self) -> bool:
        """Listed for the public: published and not a company's private on-site course."""
        return self.status == CourseStatus.PUBLISHED and not self.private

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls):
        return (cls.status == CourseStatus.PUBLISHED) & cls.private.is_(False)

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

    @property
    def cancel_deadline(self) -> datetime:
        return self.starts_at - timedelta(days=self.cancel_cutoff_days)

    def has_started(self, now: datetime) -> bool:
        return now >= self.starts_at

    def has_ended(self, now: datetime) -> bool:
        return now >= self.ends_at


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
    #: Who uploaded this version: the course page names them (standard 7 and 11).
    uploaded_by: Mapped[User | None] = relationship(lazy="raise")


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


class EnrollmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    WAITING = "waiting"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    REMOVED = "removed"

    @property
    def label(self) -> str:
        return str(ENROLLMENT_STATUS_LABELS[self])

    @property
    def is_active(self) -> bool:
        return self in (EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITING)


ENROLLMENT_STATUS_LABELS = {
    EnrollmentStatus.ENROLLED: _l("Enrolled"),
    EnrollmentStatus.WAITING: _l("Waiting list"),
    EnrollmentStatus.CANCELLED: _l("Cancelled"),
    EnrollmentStatus.DECLINED: _l("Declined the seat"),
    EnrollmentStatus.REMOVED: _l("Removed by staff"),
}


class EnrollmentSource(enum.StrEnum):
    SELF = "self"
    COMPANY = "company"
    STAFF = "staff"


class Enrollment(db.Model):
    """A learner's place in a course: a seat, a place on the waiting list, or a past one."""

    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[EnrollmentStatus] = mapped_column(enum_type(EnrollmentStatus))
    #: Order on the waiting list: lower goes first. Microseconds since the epoch at joining,
    #: so concurrent joins keep their arrival order; a staff reorder writes a value between
    #: two neighbours.
    queue_rank: Mapped[int] = mapped_column(BigInteger, default=0)
    source: Mapped[EnrollmentSource] = mapped_column(
        enum_type(EnrollmentSource), default=EnrollmentSource.SELF
    )
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: Set when a freed seat went to this learner from the waiting list.
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Secret for the one-click "give my seat to the next person" link in the promotion mail.
    decline_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: Recorded when the course closes; None until then.
    completed: Mapped[bool | None]
    attended_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    completion_override_reason: Mapped[str | None] = mapped_column(String(500))
    #: The learner has submitted the post-course survey: the certificate's survey gate.
    #: Only the fact, no day or time; the answers are sealed and released apart, in
    #: batches, with nothing that leads back to this row (see surveys/models.py).
    survey_submitted: Mapped[bool] = mapped_column(default=False, server_default=false())

    course: Mapped[Course] = relationship(lazy="raise")
    learner: Mapped[User] = relationship(foreign_keys=[learner_id], lazy="raise")

    __table_args__ = (
        UniqueConstraint("course_id", "learner_id", name="uq_enrollments_course_learner"),
        Index("ix_enrollments_course_status_rank", "course_id", "status", "queue_rank"),
    )


class CourseSession(db.Model):
    """One teaching day or block of a course; attendance is taken per session."""

    __tablename__ = "course_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    #: Short code the instructor shows in class; learners check in with it during the session.
    checkin_code: Mapped[str] = mapped_column(String(8))

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("hours > 0", name="hours_positive"),
    )

    @property
    def local_start(self) -> datetime:
        return to_local(self.starts_at)


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"

    @property
    def label(self) -> str:
        return str(ATTENDANCE_LABELS[self])


ATTENDANCE_LABELS = {
    AttendanceStatus.PRESENT: _l("Present"),
    AttendanceStatus.LATE: _l("Late"),
    AttendanceStatus.ABSENT: _l("Absent"),
}


class Attendance(db.Model):
    __tablename__ = "attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("course_sessions.id", ondelete="CASCADE"))
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[AttendanceStatus] = mapped_column(enum_type(AttendanceStatus))
    #: Null when the learner checked in with the session code.
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("session_id", "enrollment_id", name="uq_attendance_session_enrollment"),
    )


class Announcement(db.Model):
    """A course's announcement (교육 안내): published on the site and sent as a newsletter."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: One announcement per course; racing `announce-due` runs collide on this.
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: Published fewer than 7 days before the start: the charter's standard 2 was missed.
    late: Mapped[bool] = mapped_column(default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship(lazy="raise")
    updated_by: Mapped[User | None] = relationship(lazy="raise")


class Subscriber(db.Model):
    """A newsletter subscriber; double opt-in: only confirmed addresses get mail."""

    __tablename__ = "newsletter_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: Secret in the confirmation and unsubscribe links.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class CalendarFeedToken(db.Model):
    """The secret in a learner's personal calendar feed; revoking it deletes the row."""

    __tablename__ = "calendar_feed_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, index=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseInvitation(db.Model):
    """A company contact's invitation of one address to a course: the person accepts it
    from the mailed link (and only then has a seat or a place on the waiting list), so a
    company can neither create accounts for addresses nor fill a course with them."""

    __tablename__ = "course_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    #: Lower-cased, as typed by the company; never matched against other companies' data.
    email: Mapped[str] = mapped_column(String(254))
    #: The name the company gave, if any; the person can correct it when accepting.
    name: Mapped[str | None] = mapped_column(String(100))
    #: Hex SHA-256 of the secret in the mailed link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="SET NULL")
    )

    course: Mapped[Course] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint(
            "course_id", "company_id", "email", name="uq_course_invitations_course_company_email"
        ),
    )


class CourseInterest(db.Model):
    """A "notify me" sign-up (standard 5): someone would take a course on a topic, in a
    region and for an audience when one opens. Double opt-in, like the newsletter: only a
    confirmed, not withdrawn interest counts as demand and gets mail."""

    __tablename__ = "course_interests"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-cased; the person need not have an account.
    email: Mapped[str] = mapped_column(String(254), index=True)
    #: The account that signed up, when signed in; erasure deletes by it or by the address.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    topic: Mapped[Topic] = mapped_column(enum_type(Topic))
    #: None: any region.
    region: Mapped[Region | None] = mapped_column(enum_type(Region))
    #: None: any audience.
    audience: Mapped[Audience | None] = mapped_column(enum_type(Audience))
    #: "topic:region:audience" with "*" for any; one interest per address and wish, so
    #: signing up again updates the row (the NULLs of region and audience could not be
    #: compared by a unique constraint).
    wish_key: Mapped[str] = mapped_column(String(64))
    #: What the person would need, in their words; shown to staff on the demand page.
    note: Mapped[str | None] = mapped_column(String(500))
    #: The full or closed course the sign-up came from, if any; it is not offered back.
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    #: Secret in the confirmation and withdrawal links.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("email", "wish_key", name="uq_course_interests_email_wish"),)

    @hybrid_property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.withdrawn_at is None

    @is_active.inplace.expression
    @classmethod
    def _is_active_expression(cls):
        return cls.confirmed_at.is_not(None) & cls.withdrawn_at.is_(None)


class InterestNotification(db.Model):
    """One interest told of one course: the unique pair is what makes the mail go once,
    however often or concurrently the course is announced."""

    __tablename__ = "course_interest_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    interest_id: Mapped[int] = mapped_column(ForeignKey("course_interests.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("interest_id", "course_id", name="uq_course_interest_notifications_pair"),
    )
