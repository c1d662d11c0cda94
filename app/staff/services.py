"""The service-standards panel: how the institute is keeping its charter's promises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from app.core import audit, outbox
from app.core.accounts.models import User
from app.core.extensions import db
from app.core.outbox import MailStatus, OutboxMessage
from app.core.timeutil import end_of_local_day, local_to_utc, local_today
from courses.announcements import AnnouncementStandardRow
from courses.models import Course, CourseStatus
from courses.services import CalendarStandard, calendar_standard


@dataclass(frozen=True)
class YearOverview:
    year: int
    drafts: int
    published: int
    cancelled: int


def year_overview(year: int) -> YearOverview:
    counts = dict(
        db.session.execute(
            select(Course.status, func.count()).where(Course.year == year).group_by(Course.status)
        ).all()
    )
    return YearOverview(
        year=year,
        drafts=counts.get(CourseStatus.DRAFT, 0),
        published=counts.get(CourseStatus.PUBLISHED, 0),
        cancelled=counts.get(CourseStatus.CANCELLED, 0),
    )


def next_calendar_standard() -> CalendarStandard:
    """Standard 1 for next year's calendar, which is prepared now (this year's is in the
    year's standards)."""
    return calendar_standard(local_today().year + 1)


@dataclass(frozen=True)
class AnnouncementSummary:
    """Standard 2 in figures: of the courses announced so far, how many a week ahead."""

    announced: int
    on_time: int
    late: int
    overdue: int
    missed: int

    @property
    def on_time_rate(self) -> float | None:
        judged = self.announced + self.missed
        return None if judged == 0 else 100.0 * self.on_time / judged


def summarise_announcements(rows: list[AnnouncementStandardRow]) -> AnnouncementSummary:
    states = [row.state for row in rows]
    return AnnouncementSummary(
        announced=states.count("met") + states.count("late"),
        on_time=states.count("met"),
        late=states.count("late"),
        overdue=states.count("overdue"),
        missed=states.count("missed"),
    )


#: The most exception rows the dashboard lists; the summary counts them all.
EXCEPTIONS_SHOWN = 50


def announcement_exceptions(rows: list[AnnouncementStandardRow]) -> list[AnnouncementStandardRow]:
    """The courses that missed the announcement standard or are about to: late, overdue,
    missed; the most urgent first (overdue, then missed, then late)."""
    order = {"overdue": 0, "missed": 1, "late": 2}
    exceptions = [row for row in rows if row.state in order]
    exceptions.sort(key=lambda row: (order[row.state], row.course.starts_at))
    return exceptions[:EXCEPTIONS_SHOWN]


# --- Mail log ----------------------------------------------------------------------------

MAIL_LOG_PAGE_SIZE = 50


@dataclass(frozen=True)
class MailSearch:
    recipient: str | None = None
    kind: str | None = None
    status: MailStatus | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class MailPage:
    messages: list[OutboxMessage]
    page: int
    has_next: bool
    total: int


def search_mail(search: MailSearch, *, page: int = 1) -> MailPage:
    """Outbox messages, newest first, a page at a time."""
    query = select(OutboxMessage)
    if search.recipient:
        pattern = f"%{search.recipient.lower()}%"
        query = query.where(
            func.lower(OutboxMessage.to_address).like(pattern)
            | func.lower(func.coalesce(OutboxMessage.to_name, "")).like(pattern)
        )
    if search.kind:
        query = query.where(OutboxMessage.kind == search.kind)
    if search.status:
        query = query.where(OutboxMessage.status == search.status)
    if search.since:
        query = query.where(
            OutboxMessage.created_at >= local_to_utc(datetime.combine(search.since, time.min))
        )
    if search.until:
        query = query.where(OutboxMessage.created_at <= end_of_local_day(search.until))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = list(
        db.session.execute(
            query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .offset((page - 1) * MAIL_LOG_PAGE_SIZE)
            .limit(MAIL_LOG_PAGE_SIZE + 1)
            .options(lazyload(OutboxMessage.attachments))
        ).scalars()
    )
    return MailPage(rows[:MAIL_LOG_PAGE_SIZE], page, len(rows) > MAIL_LOG_PAGE_SIZE, total)


def failed_mail_count() -> int:
    return db.session.execute(
        select(func.count()).where(OutboxMessage.status == MailStatus.FAILED)
    ).scalar_one()


def resend_mail(message: OutboxMessage, *, by: User) -> None:
    outbox.resend(message)
    audit.record("outbox.resend", message, by=by, object_type="outbox", to=message.to_address)
