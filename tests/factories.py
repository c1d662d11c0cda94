"""Factories for test objects, written through the real ORM into the real database."""

from __future__ import annotations

import functools
import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from werkzeug.security import generate_password_hash

from app.core.accounts.models import Company, Role, User
from app.core.extensions import db
from app.core.timeutil import local_to_utc, utcnow
from app.core.vocabulary import CompanySize, Region
from courses import attendance
from courses.models import (
    Audience,
    CalendarYear,
    Course,
    CourseFormat,
    CourseStatus,
    SizeFocus,
)

PASSWORD = "correct horse battery"
_sequence = itertools.count(1)


@functools.cache
def _password_hash() -> str:
    # Hashing once keeps the suite fast; scrypt costs tens of milliseconds per call.
    return generate_password_hash(PASSWORD, method="scrypt")


def make_company(**fields) -> Company:
    number = next(_sequence)
    company = Company(
        name=fields.pop("name", f"테스트기업 {number}"),
        business_number=fields.pop("business_number", f"{1000000000 + number}"),
        region=fields.pop("region", Region.SEOUL),
        size=fields.pop("size", CompanySize.SME),
        approved_at=fields.pop("approved_at", utcnow()),
        **fields,
    )
    db.session.add(company)
    db.session.commit()
    return company


def make_user(role: Role = Role.LEARNER, **fields) -> User:
    number = next(_sequence)
    if role == Role.COMPANY and "company" not in fields:
        fields["company"] = make_company()
    user = User(
        email=fields.pop("email", f"user{number}@example.com"),
        name=fields.pop("name", f"홍길동{number}"),
        role=role,
        password_hash=_password_hash(),
        email_verified_at=fields.pop("email_verified_at", utcnow()),
        **fields,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_course(
    *,
    starts: datetime | None = None,
    status: CourseStatus = CourseStatus.PUBLISHED,
    instructors: list[User] | None = None,
    **fields,
) -> Course:
    """A course; `starts` is local wall-clock time (Asia/Seoul)."""
    starts = starts or datetime(2027, 3, 10, 10, 0)
    starts_at = local_to_utc(starts)
    course = Course(
        year=starts.year,
        title=fields.pop("title", f"전략물자 수출통제 제도의 이해 {next(_sequence)}"),
        summary=fields.pop("summary", "수출통제 제도의 기본을 익힙니다."),
        content=fields.pop("content", "1교시 제도 개요\n2교시 판정 절차"),
        audience=fields.pop("audience", Audience.PRACTITIONERS),
        size_focus=fields.pop("size_focus", SizeFocus.ALL),
        format=fields.pop("format", CourseFormat.CLASSROOM),
        region=fields.pop("region", Region.SEOUL),
        venue=fields.pop("venue", "서울 강남구 교육장"),
        starts_at=starts_at,
        ends_at=fields.pop("ends_at", starts_at + timedelta(hours=7)),
        hours=fields.pop("hours", Decimal("6")),
        capacity=fields.pop("capacity", 30),
        status=status,
        **fields,
    )
    course.instructors = instructors or []
    db.session.add(course)
    if db.session.get(CalendarYear, starts.year) is None:
        db.session.add(CalendarYear(year=starts.year, foreword=""))
    db.session.commit()
    return course


def make_two_day_course(starts: datetime, **fields) -> Course:
    """A course of two 6-hour sessions on consecutive weekdays, as staff would create it.

    `starts` (local time) moves back to a Monday to Thursday, so that both days are
    teaching days whatever day the suite runs on."""
    while starts.weekday() > 3:
        starts -= timedelta(days=1)
    course = make_course(
        starts=starts,
        ends_at=local_to_utc(starts + timedelta(days=1, hours=7)),
        hours=Decimal("12"),
        **fields,
    )
    db.session.add_all(attendance.default_sessions(course))
    db.session.commit()
    return course


def publish_year(year: int, by: User | None = None, at: datetime | None = None) -> CalendarYear:
    calendar = db.session.get(CalendarYear, year) or CalendarYear(year=year, foreword="")
    calendar.published_at = at or local_to_utc(datetime(year, 1, 10, 9, 0))
    calendar.published_by_id = by.id if by else None
    db.session.add(calendar)
    db.session.commit()
    return calendar
