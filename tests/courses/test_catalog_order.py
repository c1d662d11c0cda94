"""The catalog starts with what a visitor can still attend and says how full it is."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from app.core.extensions import db
from courses.models import Course
from tests.factories import make_course


def titles_in_order(html: str) -> list[str]:
    return re.findall(r'class="card-title"><a href="/courses/\d+">([^<]+)</a>', html)


def test_upcoming_courses_first_then_the_ended_ones_latest_first(client) -> None:
    now = datetime.now()
    make_course(starts=now - timedelta(days=60), title="지난 과정 A")
    make_course(starts=now + timedelta(days=40), title="다가오는 과정 2")
    make_course(starts=now - timedelta(days=10), title="지난 과정 B")
    make_course(starts=now + timedelta(days=5), title="다가오는 과정 1")
    page = client.get("/courses/").get_data(as_text=True)
    assert titles_in_order(page) == [
        "다가오는 과정 1",
        "다가오는 과정 2",
        "지난 과정 B",
        "지난 과정 A",
    ]


def test_cards_say_seats_left_full_or_finished(client) -> None:
    now = datetime.now()
    open_course = make_course(starts=now + timedelta(days=5), capacity=20, title="여유 과정")
    full = make_course(starts=now + timedelta(days=6), capacity=2, title="만석 과정")
    db.session.get(Course, full.id).seats_taken = 2
    db.session.get(Course, open_course.id).seats_taken = 3
    db.session.commit()
    make_course(starts=now - timedelta(days=30), title="끝난 과정")
    page = client.get("/courses/").get_data(as_text=True)
    cards = {
        titles_in_order(card)[0]: card
        for card in page.split('<article class="card course-card">')[1:]
    }
    assert "잔여 17석" in cards["여유 과정"]
    assert "정원 마감" in cards["만석 과정"] and "대기 신청 가능" in cards["만석 과정"]
    assert "교육 종료" in cards["끝난 과정"]
