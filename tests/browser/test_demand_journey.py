"""End to end in Chromium (standard 5): a visitor asks to be told of a full course's next
run, confirms from the mail, and hears of the course staff open from that demand."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.core.accounts.models import Role
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from app.core.vocabulary import Region
from courses.models import Course, CourseInterest, Topic
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_browser import sign_in
from tests.factories import make_course, make_user, publish_year

pytestmark = pytest.mark.browser

VISITOR = "visitor@hanbit.example.com"


def mail_to(address: str, kind: str) -> OutboxMessage | None:
    """What the server committed to the outbox, read afresh."""
    db.session.rollback()
    return db.session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == address, OutboxMessage.kind == kind)
        .order_by(OutboxMessage.id.desc())
    ).scalar()


def next_weekday(days: int) -> datetime:
    day = datetime.now() + timedelta(days=days)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def test_a_visitor_is_told_of_the_course_opened_from_their_demand(
    page: Page, browser: Browser, live_server: str
) -> None:
    full = make_course(
        starts=next_weekday(20).replace(hour=10, minute=0, second=0, microsecond=0),
        title="상황허가(캐치올) 실무",
        topic=Topic.CATCH_ALL,
        region=Region.BUSAN,
        capacity=1,
        seats_taken=1,
    )
    publish_year(full.year)
    publish_year(full.year + 1)
    staff = make_user(Role.STAFF, name="박지원")

    # The visitor finds the course full and asks to be told of the next one.
    page.goto(f"{live_server}/courses/{full.id}")
    page.get_by_role("link", name="다음 개설 시 알림 받기").click()
    expect(page.get_by_label("교육 주제")).to_have_value("catch_all")
    page.get_by_label("이메일", exact=True).fill(VISITOR)
    page.get_by_label("필요한 내용 (선택)").fill("부산에서 다시 열어 주세요.")
    page.get_by_role("button", name="알림 신청", exact=True).click()
    expect(page.get_by_role("heading", name="메일함을 확인해 주세요")).to_be_visible()

    # The confirmation link from the mail; opening it asks, the button confirms.
    confirmation = mail_to(VISITOR, "demand_confirm")
    assert confirmation is not None
    link = re.search(rf"{re.escape(live_server)}/courses/notify/confirm/\S+", confirmation.body)
    assert link, confirmation.body
    page.goto(link.group(0))
    page.get_by_role("button", name="알림 신청 확인").click()
    expect(page.get_by_text("맞는 과정이 공지되면")).to_be_visible()
    db.session.rollback()
    (interest,) = db.session.execute(select(CourseInterest)).scalars()
    assert interest.is_active and interest.course_id == full.id

    # Staff see the demand and open a course from it, then publish it inside the
    # announcement window, which announces it at once.
    desk = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul")
    desk.set_default_timeout(TIMEOUT_MS)
    staff_page = desk.new_page()
    try:
        sign_in(staff_page, live_server, staff.email)
        staff_page.goto(f"{live_server}/courses/demand")
        expect(staff_page.get_by_text("부산에서 다시 열어 주세요.")).to_be_visible()
        staff_page.get_by_role("link", name="이 수요로 과정 만들기").first.click()
        expect(staff_page.get_by_label("제목", exact=True)).to_have_value("상황허가(캐치올) 실무")
        start = next_weekday(9)
        staff_page.get_by_label("교육내용 및 커리큘럼", exact=True).fill("1교시 요건\n2교시 실습")
        staff_page.get_by_label("교육장소", exact=True).fill("부산 벡스코")
        staff_page.get_by_label("시작 일시", exact=True).fill(start.strftime("%Y-%m-%dT10:00"))
        staff_page.get_by_label("종료 일시", exact=True).fill(start.strftime("%Y-%m-%dT17:00"))
        staff_page.get_by_label("총 교육시간", exact=True).fill("6")
        staff_page.get_by_label("정원", exact=True).fill("30")
        staff_page.get_by_role("button", name="저장", exact=True).click()
        expect(staff_page.get_by_text("수요 개설 과정이 초안으로 만들어졌습니다.")).to_be_visible()
        staff_page.get_by_role("button", name="공개", exact=True).click()
        expect(staff_page.get_by_text("공개되었습니다").first).to_be_visible()
    finally:
        desk.close()

    db.session.rollback()
    opened = db.session.execute(select(Course).where(Course.id != full.id)).scalar_one()
    assert opened.topic == Topic.CATCH_ALL and opened.opened_on_demand_at is not None
    told = mail_to(VISITOR, "demand_course")
    assert told is not None, "no mail about the new course"
    assert f"{live_server}/courses/{opened.id}" in told.body
    assert told.unsubscribe_url.startswith(f"{live_server}/courses/notify/withdraw/")

    # The link in the mail leads to the new course.
    page.goto(f"{live_server}/courses/{opened.id}")
    expect(page.get_by_role("heading", name=re.compile("상황허가"))).to_be_visible()
