"""A course's sessions, worked out from its start, end and hours: the one rule that the
course form checks and the attendance service builds from.

One session per weekday (in the institute's time zone) from the first day to the last,
each from the course's start time to its end time, the hours shared out; a last day that
would begin less than half an hour before the course ends has no session. A course that
lasts less than a day (even across midnight) is one session. Bounds keep a typing error
from building millions of rows: a course lasts at most a year and every session counts
at least half an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

from flask_babel import gettext as _

from app.core.timeutil import local_to_utc, to_local

MAX_COURSE_LENGTH = timedelta(days=366)
MIN_SESSION_HOURS = Decimal("0.5")
MIN_SESSION_LENGTH = timedelta(minutes=30)


@dataclass(frozen=True)
class PlannedSession:
    starts_at: datetime
    ends_at: datetime
    hours: Decimal


def schedule_problem(starts_at: datetime, ends_at: datetime, hours: Decimal) -> str | None:
    """Why these dates and hours cannot make a course, or None. Times are aware (UTC)."""
    if ends_at <= starts_at:
        return _("The course must end after it starts.")
    if ends_at - starts_at > MAX_COURSE_LENGTH:
        return _("A course lasts at most a year.")
    days = len(session_days(starts_at, ends_at))
    if hours < MIN_SESSION_HOURS * days:
        return _(
            "These dates give %(days)d teaching days; enter at least %(hours)s hours "
            "(half an hour a day) or shorten the course.",
            days=days,
            hours=MIN_SESSION_HOURS * days,
        )
    return None


def session_days(starts_at: datetime, ends_at: datetime) -> list[date]:
    first, last = to_local(starts_at), to_local(ends_at)
    if ends_at - starts_at < timedelta(days=1) or first.date() == last.date():
        return [first.date()]
    span = (last.date() - first.date()).days
    weekdays = [
        day
        for day in (first.date() + timedelta(days=offset) for offset in range(span + 1))
        if day.weekday() < 5 and _on(day, first.time()) + MIN_SESSION_LENGTH <= ends_at
    ]
    return weekdays or [first.date()]


def plan_sessions(starts_at: datetime, ends_at: datetime, hours: Decimal) -> list[PlannedSession]:
    """The sessions of a course that `schedule_problem` accepts."""
    days = session_days(starts_at, ends_at)
    if len(days) == 1:
        return [PlannedSession(starts_at, ends_at, hours)]
    first, last = to_local(starts_at), to_local(ends_at)
    share = (hours / len(days)).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    daily = _daily_length(first.time(), last.time(), share)
    sessions = []
    for number, day in enumerate(days):
        start = _on(day, first.time())
        end = min(start + daily, ends_at)
        session_hours = share if number < len(days) - 1 else hours - share * (len(days) - 1)
        sessions.append(PlannedSession(start, end, session_hours))
    return sessions


def _daily_length(start: time, end: time, share: Decimal) -> timedelta:
    """From the start time to the end time each day; when the end time is not later in the
    day than the start time, a day of the session's share of the hours."""
    today = date(2000, 1, 3)
    length = datetime.combine(today, end) - datetime.combine(today, start)
    if length > timedelta(0):
        return length
    return max(timedelta(hours=float(share)), MIN_SESSION_LENGTH)


def _on(day: date, moment: time) -> datetime:
    return local_to_utc(datetime.combine(day, moment.replace(tzinfo=None)))
