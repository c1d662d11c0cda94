"""End to end in Chromium: the calendar on a phone, staff creating a course, signing out."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.core.accounts.models import Role
from app.core.extensions import db
from app.core.vocabulary import Region
from courses.models import Course, CourseStatus
from tests.factories import PASSWORD, make_course, make_user, publish_year

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 800}
NO_HORIZONTAL_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


def saved_courses() -> list[tuple[str, CourseStatus, str]]:
    """What the server committed, read afresh (the test's session is not the server's)."""
    db.session.rollback()
    rows = db.session.execute(
        select(Course.title, Course.status, Course.region).order_by(Course.id)
    )
    return [tuple(row) for row in rows]


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("이메일", exact=True).fill(email)
    page.get_by_label("비밀번호", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="로그인", exact=True).click()
    expect(page.get_by_text("님, 환영합니다.")).to_be_visible()
    expect(page.get_by_role("button", name="로그아웃", exact=True)).to_be_visible()


def test_phone_visitor_filters_the_published_calendar_by_region(
    page: Page, live_server: str
) -> None:
    seoul = make_course(title="전략물자 수출통제 제도의 이해", starts=datetime(2027, 2, 17, 10, 0))
    busan = make_course(
        title="부산 판정 실무 워크숍",
        starts=datetime(2027, 5, 12, 10, 0),
        region=Region.BUSAN,
        venue="부산 벡스코",
    )
    make_course(
        title="온라인 기술이전 통제", starts=datetime(2027, 9, 8, 14, 0), region=Region.ONLINE
    )
    publish_year(2027)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/calendar/2027")

    expect(page.get_by_role("heading", name="2027년 연간 교육일정", level=1)).to_be_visible()
    months = page.get_by_role("heading", level=2)
    expect(months).to_have_text([f"{month}월" for month in range(1, 13)])
    expect(page.get_by_role("link", name=seoul.title)).to_be_visible()
    expect(page.get_by_role("link", name=busan.title)).to_be_visible()
    expect(page.get_by_role("link", name="온라인 기술이전 통제")).to_be_visible()
    expect(page.get_by_text("3개 과정")).to_be_visible()
    assert page.evaluate(NO_HORIZONTAL_OVERFLOW), "the calendar scrolls sideways on a phone"

    page.get_by_label("지역", exact=True).select_option("busan")
    page.get_by_role("button", name="검색", exact=True).click()

    expect(page).to_have_url(re.compile(r"/calendar/2027\?.*\bregion=busan\b"))
    expect(page.get_by_label("지역", exact=True)).to_have_value("busan")
    expect(page.get_by_text("1개 과정")).to_be_visible()
    expect(page.get_by_role("link", name=busan.title)).to_be_visible()
    expect(page.locator("#m5").get_by_role("link", name=busan.title)).to_be_visible()
    expect(page.get_by_role("link", name=seoul.title)).to_have_count(0)
    expect(page.get_by_role("link", name="온라인 기술이전 통제")).to_have_count(0)
    expect(page.locator(".month-list li")).to_have_count(1)
    assert page.evaluate(NO_HORIZONTAL_OVERFLOW), "the filtered calendar scrolls sideways"


def test_staff_creates_a_course_after_fixing_an_end_before_the_start(
    page: Page, live_server: str
) -> None:
    staff = make_user(Role.STAFF, name="김하늘")
    sign_in(page, live_server, staff.email)

    page.goto(f"{live_server}/courses/new")
    expect(page.get_by_role("heading", name="교육과정 등록", level=1)).to_be_visible()
    page.get_by_label("제목", exact=True).fill("상황허가(캐치올) 실무")
    page.get_by_label("과정 요약", exact=True).fill(
        "최종용도와 최종사용자에 따른 상황허가를 익힙니다."
    )
    page.get_by_label("교육내용 및 커리큘럼", exact=True).fill("1교시 요건\n2교시 실습")
    page.get_by_label("지역", exact=True).select_option("busan")
    page.get_by_label("교육장소", exact=True).fill("부산 벡스코")
    page.get_by_label("시작 일시", exact=True).fill("2027-03-12T10:00")
    page.get_by_label("종료 일시", exact=True).fill("2027-03-12T09:00")
    page.get_by_label("총 교육시간", exact=True).fill("6")
    page.get_by_label("정원", exact=True).fill("35")
    page.get_by_role("button", name="저장", exact=True).click()

    expect(page.get_by_role("alert")).to_have_text("아래 표시된 항목을 수정해 주세요.")
    expect(page.get_by_text("종료 일시는 시작 일시 이후여야 합니다.")).to_be_visible()
    expect(page.get_by_label("종료 일시", exact=True)).to_have_attribute("aria-invalid", "true")
    # What was typed is kept, so only the wrong field needs changing.
    expect(page.get_by_label("제목", exact=True)).to_have_value("상황허가(캐치올) 실무")
    assert saved_courses() == []

    page.get_by_label("종료 일시", exact=True).fill("2027-03-12T17:00")
    page.get_by_role("button", name="저장", exact=True).click()

    expect(page).to_have_url(re.compile(r"/courses/\d+$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("상황허가(캐치올) 실무")
    expect(heading.get_by_text("초안", exact=True)).to_be_visible()
    expect(page.get_by_text("교육과정이 초안으로 등록되었습니다.")).to_be_visible()
    assert saved_courses() == [("상황허가(캐치올) 실무", CourseStatus.DRAFT, Region.BUSAN)]


def test_signing_out_ends_the_session_for_a_copied_cookie(page: Page, live_server: str) -> None:
    learner = make_user(Role.LEARNER)
    sign_in(page, live_server, learner.email)
    cookies = [cookie for cookie in page.context.cookies() if cookie["name"] == "session"]
    assert len(cookies) == 1, page.context.cookies()
    browser = page.context.browser
    assert browser is not None

    # Control: the copied cookie alone signs another browser in while the session is live.
    before = browser.new_context(locale="ko-KR")
    try:
        before.add_cookies(cookies)
        other = before.new_page()
        other.goto(f"{live_server}/auth/password")
        expect(other).to_have_url(f"{live_server}/auth/password")
        expect(other.get_by_role("heading", name="비밀번호 변경", level=1)).to_be_visible()
    finally:
        before.close()

    page.get_by_role("button", name="로그아웃", exact=True).click()
    expect(page.get_by_text("로그아웃되었습니다.")).to_be_visible()
    expect(page.get_by_role("button", name="로그아웃", exact=True)).to_have_count(0)

    after = browser.new_context(locale="ko-KR")
    try:
        after.add_cookies(cookies)
        stolen = after.new_page()
        stolen.goto(f"{live_server}/auth/password")
        expect(stolen).to_have_url(re.compile(r"/auth/login\?next=%2Fauth%2Fpassword$"))
        expect(stolen.get_by_role("heading", name="로그인", level=1)).to_be_visible()
        expect(stolen.get_by_role("button", name="로그아웃", exact=True)).to_have_count(0)
    finally:
        after.close()


def test_the_content_security_policy_blocks_nothing_our_pages_use(
    page: Page, live_server: str
) -> None:
    """The policy allows no inline script or style: Chromium reports every violation."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    course = make_course(starts=datetime(2027, 5, 12, 10, 0))
    publish_year(2027)
    staff = make_user(Role.STAFF)
    pages = [
        "/",
        "/courses/",
        f"/courses/{course.id}",
        "/calendar/2027",
        "/auth/login",
        "/auth/register",
    ]
    for path in pages:
        page.goto(f"{live_server}{path}")
    sign_in(page, live_server, staff.email)
    for path in ["/staff/", f"/courses/{course.id}/roster", "/staff/companies"]:
        response = page.goto(f"{live_server}{path}")
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert violations == []
