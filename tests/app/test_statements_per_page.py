"""The staff pages that summarise a year cost the same number of SQL statements whatever
the number of courses: they read aggregates, never one query per course."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import event

from app.core.accounts.models import Role
from app.core.extensions import db
from app.core.timeutil import local_today
from courses import enrolment
from tests.conftest import login
from tests.factories import make_course, make_user


def _statements(client, url: str) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200, url
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def _courses(count: int, year: int) -> None:
    learner = make_user(email=f"learner{count}@example.com")
    for number in range(count):
        course = make_course(starts=datetime(year, 12, 20, 10) + timedelta(hours=number % 8))
        enrolment.enroll(course, learner, by=learner)
    db.session.commit()


def test_staff_year_pages_read_aggregates_not_rows(app, client) -> None:
    staff = make_user(Role.STAFF, email="staff@example.com")
    login(client, staff.email)
    year = local_today().year
    pages = ("/staff/", f"/surveys/reports/{year}")
    _courses(4, year)
    small = {page: _statements(client, page) for page in pages}
    _courses(40, year)
    large = {page: _statements(client, page) for page in pages}
    assert large == small
