"""The service-standards panel: how the institute is keeping its charter's promises."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.core.extensions import db
from app.core.timeutil import local_today
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


def calendar_standards() -> list[CalendarStandard]:
    """Standard 1 for this year's calendar and for next year's, which is prepared now."""
    this_year = local_today().year
    return [calendar_standard(this_year), calendar_standard(this_year + 1)]


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
