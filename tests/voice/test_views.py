"""The voice desk's pages: anyone files and follows an item by its secret link; staff work
the queue. Bad input is a message on the form, never a 5xx, and saves nothing."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.core.accounts.models import Role
from app.core.audit import AuditEntry
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from tests.app.test_page_structure import check
from tests.conftest import login, post_form
from tests.factories import make_course, make_user
from voice.models import VoiceItem, VoiceKind, VoiceMessage, VoiceState

FOLLOW_LINK = re.compile(r"http://localhost(/voice/[A-Za-z0-9_-]{32})(?![A-Za-z0-9_-])")


def filing_form(**changes) -> dict:
    form = {
        "kind": "inquiry",
        "subject": "교육장 주차 문의",
        "message": "교육장에 주차할 수 있나요?\n오전 과정에 참석합니다.",
        "name": "문서연",
        "email": "seoyeon@example.com",
        "phone": "",
        "course_id": "",
        "consent": "y",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def items() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(VoiceItem)).scalar_one()


def newest_item() -> VoiceItem:
    db.session.rollback()
    return db.session.execute(select(VoiceItem).order_by(VoiceItem.id.desc())).scalars().first()


def mailed_follow_path(address: str) -> str:
    db.session.rollback()
    body = db.session.execute(
        select(OutboxMessage.body)
        .where(OutboxMessage.to_address == address, OutboxMessage.kind == "voice_received")
        .order_by(OutboxMessage.id.desc())
    ).scalar()
    assert body, f"no voice_received mail to {address}"
    return FOLLOW_LINK.search(body).group(1)


def test_an_anonymous_visitor_files_follows_and_reads_the_staff_reply(client, app) -> None:
    course = make_course(starts=datetime.now() - timedelta(days=20), title="판정 실무 과정")
    page = client.get("/voice/new")
    assert page.status_code == 200
    check(page.get_data(as_text=True))
    assert "판정 실무 과정" in page.get_data(as_text=True)

    response = post_form(client, "/voice/new", filing_form(course_id=str(course.id)))
    assert response.status_code == 302
    path = mailed_follow_path("seoyeon@example.com")
    assert response.headers["Location"] == path

    visitor = app.test_client()
    follow = visitor.get(path)
    html = follow.get_data(as_text=True)
    assert follow.status_code == 200 and "아직 답변 전입니다" in html
    assert "교육장에 주차할 수 있나요?" in html and "판정 실무 과정" in html
    check(html)

    staff = make_user(Role.STAFF, name="박지원", email="jiwon@example.com", phone="02-123-4567")
    desk = app.test_client()
    login(desk, staff.email)
    queue = desk.get("/voice/queue").get_data(as_text=True)
    check(queue)
    item = newest_item()
    assert f"/voice/items/{item.id}" in queue and "교육장 주차 문의" in queue
    check(desk.get(f"/voice/items/{item.id}").get_data(as_text=True))
    reply = {"body": "건물 주차장은 없고 인근 공영주차장을 이용하실 수 있습니다."}
    assert post_form(desk, f"/voice/items/{item.id}/reply", reply).status_code == 302

    html = visitor.get(path).get_data(as_text=True)
    assert "인근 공영주차장을 이용하실 수 있습니다." in html
    assert "박지원 답변" in html and "jiwon@example.com" in html and "02-123-4567" in html
    assert "아직 답변 전입니다" not in html
    assert newest_item().state == VoiceState.ANSWERED

    # The filer writes again; the item is open work once more.
    again = post_form(visitor, path, {"body": "오후 과정도 같은가요?"})
    assert again.status_code == 302
    assert newest_item().state == VoiceState.IN_PROGRESS
    assert "오후 과정도 같은가요?" in visitor.get(path).get_data(as_text=True)


def test_an_unknown_or_malformed_token_is_404_and_there_is_no_index(client) -> None:
    assert client.get(f"/voice/{secrets.token_urlsafe(24)}").status_code == 404
    assert client.get("/voice/short").status_code == 404
    assert client.get("/voice/" + "a" * 300).status_code == 404
    assert client.get("/voice/").status_code == 404
    assert (
        post_form(client, f"/voice/{secrets.token_urlsafe(24)}", {"body": "x"}).status_code == 404
    )


@pytest.mark.parametrize("url", ["/voice/queue", "/voice/items/1"])
def test_the_staff_pages_are_for_staff_only(client, url) -> None:
    assert client.get(url).status_code == 302
    assert "/auth/login" in client.get(url).headers["Location"]
    login(client, make_user(Role.LEARNER).email)
    assert client.get(url).status_code == 403


def test_a_signed_in_learner_is_prefilled_and_linked(client) -> None:
    learner = make_user(name="김수출", email="kim.export@example.com", phone="010-1234-5678")
    login(client, learner.email)
    html = client.get("/voice/new?kind=proposal").get_data(as_text=True)
    assert 'value="김수출"' in html and 'value="kim.export@example.com"' in html
    assert '<option selected value="proposal">' in html
    response = post_form(
        client, "/voice/new", filing_form(kind="proposal", email="", name="김수출")
    )
    assert response.status_code == 302
    item = newest_item()
    assert (item.user_id, item.email, item.kind) == (
        learner.id,
        "kim.export@example.com",
        VoiceKind.PROPOSAL,
    )


BAD = [
    ({"email": ""}, "이메일 주소를 입력해 주세요"),
    ({"email": "not-an-address"}, "올바른 이메일"),
    ({"consent": None}, "동의해 주세요"),
    ({"kind": "praise"}, None),
    ({"kind": None}, None),
    ({"subject": "주차\x00문의"}, "제어 문자"),
    ({"name": "문서연\r\nBcc: x@example.com"}, "제어 문자"),
    ({"message": "가" * 5001}, None),
    ({"subject": "가" * 201}, None),
    ({"phone": "0" * 31}, None),
    ({"course_id": "999999"}, None),
    ({"course_id": "99999999999999999999"}, None),
    ({"subject": "   "}, "필수"),
]


@pytest.mark.parametrize(("changes", "message"), BAD)
def test_bad_input_is_a_message_on_the_form_and_saves_nothing(client, changes, message) -> None:
    response = post_form(client, "/voice/new", filing_form(**changes))
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    assert 'class="error"' in html
    if message:
        assert message in html, html[html.find('class="error"') - 300 :][:800]
    assert items() == 0
    assert db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 0


def test_a_follow_up_without_text_is_refused_and_a_closed_item_takes_none(client, app) -> None:
    assert post_form(client, "/voice/new", filing_form()).status_code == 302
    path = mailed_follow_path("seoyeon@example.com")
    response = post_form(client, path, {"body": " \x0b "})
    assert response.status_code == 200 and 'class="error"' in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(VoiceMessage)).scalar_one() == 0


def test_staff_take_assign_reply_interim_and_close_after_confirming(client) -> None:
    staff = make_user(Role.STAFF, name="박지원")
    colleague = make_user(Role.STAFF, name="이도윤")
    assert post_form(client, "/voice/new", filing_form()).status_code == 302
    item = newest_item()
    login(client, staff.email)
    base = f"/voice/items/{item.id}"
    assert client.get(f"{base}/close").status_code == 200  # asks, though it would refuse
    assert post_form(client, f"{base}/take").status_code == 302
    assert newest_item().assignee_id == staff.id
    assert (
        post_form(client, f"{base}/assign", {"assignee_id": str(colleague.id)}).status_code == 302
    )
    assert newest_item().assignee_id == colleague.id
    learner = make_user()
    post_form(client, f"{base}/assign", {"assignee_id": str(learner.id)})
    assert newest_item().assignee_id == colleague.id  # not a staff member: not a choice

    # Closing before any reply is refused with a message; the item stays open.
    post_form(client, f"{base}/close")
    assert newest_item().state == VoiceState.RECEIVED
    reply = {"body": "확인 후 다시 안내드리겠습니다.", "interim": "y"}
    assert post_form(client, f"{base}/reply", reply).status_code == 302
    item = newest_item()
    assert item.state == VoiceState.IN_PROGRESS and item.first_reply_at is not None

    confirm = client.get(f"{base}/close").get_data(as_text=True)
    assert f'action="{base}/close"' in confirm and "되돌릴 수 없습니다" in confirm
    assert "<script" not in confirm
    assert newest_item().state == VoiceState.IN_PROGRESS  # the GET changed nothing
    assert client.post(f"{base}/close").status_code == 400  # no CSRF token
    assert post_form(client, f"{base}/close").status_code == 302
    assert newest_item().state == VoiceState.CLOSED
    actions = db.session.execute(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "voice_item")
        .order_by(AuditEntry.id)
    ).scalars()
    assert list(actions) == ["voice.assign", "voice.assign", "voice.reply", "voice.close"]


def test_staff_record_a_proposals_decision_and_the_filer_sees_it(client, app) -> None:
    staff = make_user(Role.STAFF, name="박지원")
    assert post_form(client, "/voice/new", filing_form(kind="proposal")).status_code == 302
    path = mailed_follow_path("seoyeon@example.com")
    item = newest_item()
    desk = app.test_client()
    login(desk, staff.email)
    base = f"/voice/items/{item.id}"
    post_form(desk, f"{base}/resolve", {"outcome": "", "resolution": "검토했습니다."})
    assert newest_item().resolved_at is None  # a proposal needs its result
    decision = {"outcome": "accepted", "resolution": "내년부터 주차 안내문을 함께 보냅니다."}
    assert post_form(desk, f"{base}/resolve", decision).status_code == 302
    assert newest_item().state == VoiceState.CLOSED
    html = client.get(path).get_data(as_text=True)
    assert "검토 결과" in html and "수용" in html and "주차 안내문을 함께 보냅니다" in html
    assert "종결된 건입니다" in html and 'name="body"' not in html
    check(html)


def test_the_queue_filters_are_bounded_and_refuse_nothing_with_a_500(client) -> None:
    login(client, make_user(Role.STAFF).email)
    for query in (
        "kind=praise",
        "state=zzz",
        "clock=overdue",
        "page=-3",
        "page=99999999999",
        "page=²",
    ):
        response = client.get(f"/voice/queue?{query}")
        assert response.status_code == 200, query


# --- Hypothesis: hostile values at the filing form ----------------------------------------

hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\r\n", "\u2028", "\ufeff", "=cmd|' /C calc'!A0"]),
    st.integers(min_value=0, max_value=6000).map(lambda n: "가" * n),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.fixed_dictionaries(
        {
            "kind": st.one_of(st.sampled_from(["inquiry", "proposal", "complaint"]), hostile_text),
            "subject": hostile_text,
            "message": hostile_text,
            "name": hostile_text,
            "email": st.one_of(st.emails(), hostile_text),
            "phone": hostile_text,
            "course_id": st.one_of(st.just(""), hostile_text, st.integers().map(str)),
            "consent": st.sampled_from(["y", "", "n", "\x00"]),
        }
    )
)
def test_hostile_filing_input_never_breaks_the_form(client, values) -> None:
    before = items()
    response = post_form(client, "/voice/new", values)
    assert response.status_code in (200, 302), response.status_code
    after = items()
    if response.status_code == 302:
        assert after == before + 1
        item = newest_item()
        assert response.headers["Location"] == f"/voice/{item.token}"
        assert item.consented_at is not None and item.email
    else:
        assert after == before


def test_the_queue_costs_the_same_statements_for_3_items_as_for_30(client) -> None:
    from tests.app.test_statements_per_page import _statements
    from voice import services

    staff = make_user(Role.STAFF)
    login(client, staff.email)

    def add(count: int) -> None:
        for number in range(count):
            filing = services.Filing(
                kind=VoiceKind.INQUIRY,
                subject=f"문의 {number}",
                message="내용",
                name="문서연",
                email="seoyeon@example.com",
                consent=True,
            )
            item = services.file_item(filing, user=None)
            if number % 2:
                services.assign(item, staff, by=staff)
        db.session.commit()

    add(3)
    small = _statements(client, "/voice/queue")
    add(27)
    assert _statements(client, "/voice/queue") == small


def test_filing_is_rate_limited_per_address(app) -> None:
    from tests.app.test_security import limited_app

    limited = limited_app(app)
    client = limited.test_client()
    statuses = [
        post_form(client, "/voice/new", filing_form(subject=f"문의 {n}")).status_code
        for n in range(11)
    ]
    assert statuses == [302] * 10 + [429]
    assert items() == 10
    assert client.get("/voice/new").status_code == 200  # reading the form is not limited
