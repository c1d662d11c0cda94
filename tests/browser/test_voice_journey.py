"""End to end in Chromium: an anonymous visitor files an inquiry and follows it by the link
from the mail; a staff member answers it from the queue; the visitor reads the reply."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.core.accounts.models import Role
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from tests.browser.test_browser import NO_HORIZONTAL_OVERFLOW, PHONE, sign_in
from tests.factories import make_user

pytestmark = pytest.mark.browser


def follow_link_in_the_mail(address: str) -> str:
    """The link of the newest voice mail to `address`, as the server queued it."""
    db.session.rollback()
    body = db.session.execute(
        select(OutboxMessage.body)
        .where(OutboxMessage.to_address == address, OutboxMessage.kind == "voice_received")
        .order_by(OutboxMessage.id.desc())
    ).scalar()
    assert body, f"no voice mail to {address}"
    return re.search(r"https?://\S+/voice/[A-Za-z0-9_-]{32}", body).group(0)


def test_a_visitor_files_an_inquiry_and_reads_the_staff_reply(
    page: Page, browser, live_server: str
) -> None:
    staff = make_user(Role.STAFF, name="박지원", email="jiwon@example.com", phone="02-123-4567")

    page.set_viewport_size(PHONE)
    page.goto(live_server)
    page.get_by_role("link", name="고객의 소리").click()
    expect(page.get_by_role("heading", name="고객의 소리", level=1)).to_be_visible()
    assert page.evaluate(NO_HORIZONTAL_OVERFLOW), "the filing form scrolls sideways on a phone"
    page.get_by_label("유형", exact=True).select_option("inquiry")
    page.get_by_label("제목", exact=True).fill("교육장 주차 문의")
    page.get_by_label("내용", exact=True).fill("다음 주 판정 실무 과정에 갑니다. 주차할 수 있나요?")
    page.get_by_label("이름", exact=True).fill("문서연")
    page.get_by_label("이메일", exact=True).fill("seoyeon@example.com")
    page.get_by_label(re.compile("수집·이용하는 데 동의합니다")).check()
    page.get_by_role("button", name="보내기", exact=True).click()
    expect(page.get_by_text("접수되었습니다.")).to_be_visible()

    link = follow_link_in_the_mail("seoyeon@example.com")
    assert link.startswith(f"{live_server}/voice/")
    page.goto(link)
    expect(page.get_by_role("heading", name="교육장 주차 문의", level=1)).to_be_visible()
    expect(page.get_by_text("아직 답변 전입니다.")).to_be_visible()

    desk = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul").new_page()
    try:
        sign_in(desk, live_server, staff.email)
        desk.get_by_role("link", name="고객의 소리", exact=True).first.click()
        expect(desk.get_by_role("heading", name="고객의 소리 처리 목록", level=1)).to_be_visible()
        row = desk.get_by_role("row").filter(has_text="교육장 주차 문의")
        expect(row.get_by_text(re.compile(r"남음$"))).to_be_visible()
        row.get_by_role("link", name="교육장 주차 문의").click()
        desk.get_by_label("접수자에게 답변", exact=True).fill(
            "교육장 건물에는 주차장이 없어 인근 공영주차장을 이용하셔야 합니다."
        )
        desk.get_by_role("button", name="답변 보내기", exact=True).click()
        expect(desk.get_by_text("접수자에게 답변을 보냈습니다.")).to_be_visible()
    finally:
        desk.context.close()

    page.reload()
    expect(page.get_by_text("인근 공영주차장을 이용하셔야 합니다.")).to_be_visible()
    expect(page.get_by_text("박지원 답변")).to_be_visible()
    expect(page.get_by_role("link", name="jiwon@example.com")).to_be_visible()
    expect(page.get_by_text("아직 답변 전입니다.")).to_have_count(0)
    assert page.evaluate(NO_HORIZONTAL_OVERFLOW), "the follow page scrolls sideways on a phone"
