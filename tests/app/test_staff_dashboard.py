"""Service standard 1: the year's calendar is published by 31 January."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.core.accounts.models import Role
from app.core.timeutil import local_to_utc
from app.staff import services as staff
from courses.announcements import AnnouncementStandardRow
from courses.services import calendar_standard
from tests.conftest import login
from tests.factories import make_course, make_user, publish_year


def kst(*args: int) -> datetime:
    return local_to_utc(datetime(*args))


@pytest.mark.parametrize(
    ("published", "now", "state"),
    [
        (kst(2027, 1, 12, 10), kst(2027, 3, 1), "met"),
        (kst(2027, 1, 31, 23, 59), kst(2027, 3, 1), "met"),
        (kst(2027, 2, 1, 0, 1), kst(2027, 3, 1), "missed"),
        (kst(2026, 12, 20), kst(2026, 12, 21), "met"),
        (None, kst(2026, 11, 22), "due"),
        (None, kst(2027, 1, 31, 23, 0), "due"),
        (None, kst(2027, 2, 1, 0, 1), "missed"),
    ],
)
def test_calendar_standard_state(app, published, now, state) -> None:
    make_course()
    if published:
        publish_year(2027, at=published)
    result = calendar_standard(2027, now=now)
    assert result.state == state
    assert result.deadline == kst(2027, 1, 31, 23, 59, 59, 999999)


def test_the_dashboard_shows_standard_one(client) -> None:
    login(client, make_user(Role.STAFF).email)
    page = client.get("/staff/").get_data(as_text=True)
    assert "서비스 이행표준" in page
    assert 'data-standard="1"' in page


def test_the_dashboard_lists_only_the_courses_that_need_action(app) -> None:
    rows = [
        AnnouncementStandardRow(
            make_course(starts=datetime(2027, 3, day, 10)), date(2027, 2, 1), None, state
        )
        for day, state in ((2, "met"), (3, "late"), (4, "scheduled"), (5, "missed"), (6, "overdue"))
    ]
    assert [row.state for row in staff.announcement_exceptions(rows)] == [
        "overdue",
        "missed",
        "late",
    ]
    many = [rows[1]] * (staff.EXCEPTIONS_SHOWN + 10)
    assert len(staff.announcement_exceptions(many)) == staff.EXCEPTIONS_SHOWN
