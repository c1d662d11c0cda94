"""The demo seed is realistic and idempotent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.core.accounts.models import Role, User
from app.core.extensions import db
from app.demo import seed
from courses.models import CalendarYear, Course, CourseStatus


def counts() -> tuple[int, int]:
    users = db.session.execute(select(func.count()).select_from(User)).scalar_one()
    courses = db.session.execute(select(func.count()).select_from(Course)).scalar_one()
    return users, courses


def test_seed_demo_builds_a_year_and_adds_nothing_the_second_time(app) -> None:
    seed(today=date(2026, 11, 22))
    first = counts()
    roles = set(db.session.execute(select(User.role).distinct()).scalars())
    assert roles == set(Role)
    published = db.session.execute(
        select(func.count())
        .select_from(Course)
        .where(Course.year == 2026, Course.status == CourseStatus.PUBLISHED)
    ).scalar_one()
    assert 35 <= published <= 45
    assert db.session.get(CalendarYear, 2026).is_published
    assert not db.session.get(CalendarYear, 2027).is_published

    seed(today=date(2026, 11, 22))
    assert counts() == first


def test_seed_demo_command_is_idempotent(app) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "staff@example.com" in first.output
    after_first = counts()
    second = runner.invoke(args=["seed-demo"])
    assert "nothing new" in second.output
    assert counts() == after_first
