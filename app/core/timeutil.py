"""Times are stored in UTC and shown in the institute's time zone (Asia/Seoul by default)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def local_zone() -> ZoneInfo:
    name = current_app.config["TIMEZONE"] if has_app_context() else "Asia/Seoul"
    return ZoneInfo(name)


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(local_zone())


def local_to_utc(moment: datetime) -> datetime:
    """A naive wall-clock time in the local zone, as an aware UTC datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_zone())
    return moment.astimezone(UTC)


def local_today() -> date:
    return to_local(utcnow()).date()


def end_of_local_day(day: date) -> datetime:
    """The last instant of `day` in the local zone, in UTC."""
    return local_to_utc(datetime.combine(day, time.max))


def is_working_day(day: date) -> bool:
    """Monday to Friday, except the public holidays configured in `PUBLIC_HOLIDAYS` (a list
    of dates or ISO strings; none by default: the system knows no calendar of its own)."""
    if day.weekday() >= 5:
        return False
    holidays = current_app.config.get("PUBLIC_HOLIDAYS", ()) if has_app_context() else ()
    return day not in holidays and day.isoformat() not in holidays


def next_working_day(day: date) -> date:
    """The first working day after `day`."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_time(start: datetime, span: timedelta) -> datetime:
    """`start` plus `span` counted on the clock of working days only (the hours of weekends
    and holidays do not run), in UTC."""
    cursor, remaining = to_local(start), span
    while True:
        midnight = datetime.combine(cursor.date() + timedelta(days=1), time(), cursor.tzinfo)
        if is_working_day(cursor.date()):
            if cursor + remaining <= midnight:
                return (cursor + remaining).astimezone(UTC)
            remaining -= midnight - cursor
        cursor = midnight


def local_year_bounds(year: int) -> tuple[datetime, datetime]:
    """The year in the local zone as a half-open UTC interval [1 January, next 1 January)."""
    return (
        local_to_utc(datetime.combine(date(year, 1, 1), time.min)),
        local_to_utc(datetime.combine(date(year + 1, 1, 1), time.min)),
    )


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every engine (SQLite keeps no time zone, so store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)
