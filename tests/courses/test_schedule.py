"""Sessions follow from a course's dates and hours, within bounds that keep a typing error
from building millions of rows or sessions of no length."""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal

import pytest

from app.core.accounts.models import Role
from app.core.timeutil import local_to_utc
from courses.schedule import plan_sessions, schedule_problem
from tests.conftest import login, post_form
from tests.courses.test_course_management import course_form
from tests.factories import make_user


def at(*parts: int) -> datetime:
    return local_to_utc(datetime(*parts))


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        (at(2027, 3, 10, 18, 55), at(2027, 3, 11, 1, 55)),  # across local midnight
        (at(2027, 3, 10, 10, 0), at(2027, 3, 12, 9, 0)),  # ends earlier in the day
        (at(2027, 3, 12, 10, 0), at(2027, 3, 15, 17, 0)),  # Friday to Monday
        (at(2027, 3, 13, 10, 0), at(2027, 3, 14, 17, 0)),  # a weekend workshop
    ],
)
def test_every_session_ends_after_it_starts_and_inside_the_course(app, starts, ends) -> None:
    hours = Decimal("6")
    assert schedule_problem(starts, ends, hours) is None
    sessions = plan_sessions(starts, ends, hours)
    assert sessions
    assert sum(s.hours for s in sessions) == hours
    for session in sessions:
        assert starts <= session.starts_at < session.ends_at <= ends
        assert session.hours >= Decimal("0.5")


def test_a_course_over_a_year_or_with_sessions_under_half_an_hour_is_refused(app) -> None:
    assert schedule_problem(at(2027, 1, 4, 10), at(9999, 12, 31, 17), Decimal("10"))
    eight_weeks = schedule_problem(at(2027, 3, 1, 10), at(2027, 4, 26, 12), Decimal("2"))
    assert eight_weeks and "2" in eight_weeks


@pytest.mark.parametrize(
    "changes",
    [
        {"ends_at": "9999-12-31T17:00"},
        {"ends_at": "2027-04-26T12:00", "hours": "2"},
        {"starts_at": "0001-01-01T10:00"},
    ],
)
def test_the_course_form_refuses_impossible_schedules_quickly(client, changes) -> None:
    from sqlalchemy import func, select

    from app.core.extensions import db
    from courses.models import Course, CourseSession

    login(client, make_user(Role.STAFF).email)
    started = time.monotonic()
    response = post_form(client, "/courses/new", course_form(**changes))
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    assert 'class="error"' in response.get_data(as_text=True)
    for model in (Course, CourseSession):
        assert db.session.execute(select(func.count()).select_from(model)).scalar_one() == 0
