"""Standard 10 for the voice desk: a person's items are in their data export, and deleting
their data leaves no trace of them in any voice item while the figures stay."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.core.accounts.models import Role
from app.core.extensions import db
from app.core.timeutil import local_to_utc
from tests.app.test_erasure import EMAIL, NAME, PHONE, columns_holding_the_person
from tests.conftest import login, post_form
from tests.factories import PASSWORD, make_user
from voice import services
from voice.models import VoiceKind


def kst(*parts: int) -> datetime:
    return local_to_utc(datetime(*parts))


def file(user=None, **fields):
    values = {
        "kind": VoiceKind.INQUIRY,
        "subject": "문의",
        "message": "내용",
        "name": "다른사람",
        "email": "other@example.com",
        "consent": True,
        **fields,
    }
    return services.file_item(services.Filing(**values), user=user, now=kst(2027, 3, 8, 10, 0))


def test_the_export_holds_the_persons_items_linked_or_filed_with_their_address(client) -> None:
    person = make_user(name=NAME, email=EMAIL, phone=PHONE)
    staff = make_user(Role.STAFF)
    linked = file(person, subject="회원 문의", name=NAME, email=EMAIL)
    file(None, subject="비회원 문의", name=NAME, email=EMAIL.upper(), kind=VoiceKind.COMPLAINT)
    file(None, subject="남의 문의")
    services.reply(linked, "답변입니다.", interim=True, by=staff, now=kst(2027, 3, 8, 11, 0))
    db.session.commit()
    login(client, person.email)
    data = client.get("/me/data.json").get_json()
    exported = data["voice_items"]
    assert sorted(item["subject"] for item in exported) == ["비회원 문의", "회원 문의"]
    (answered,) = [item for item in exported if item["subject"] == "회원 문의"]
    assert answered["messages"] == [
        {
            "from_staff": True,
            "interim": True,
            "body": "답변입니다.",
            "at": answered["messages"][0]["at"],
        }
    ]
    assert "남의 문의" not in str(data)


def test_deleting_scrubs_the_persons_items_and_mentions_and_keeps_the_figures(client) -> None:
    person = make_user(name=NAME, email=EMAIL, phone=PHONE)
    staff = make_user(Role.STAFF, name="김담당")
    linked = file(
        person,
        kind=VoiceKind.COMPLAINT,
        subject=f"{NAME}의 불편 사항",
        message=f"연락은 {PHONE} 또는 {EMAIL}로 주세요.",
        name=NAME,
        email=EMAIL,
        phone=PHONE,
    )
    services.reply(
        linked, f"{NAME}님, 확인 중입니다.", interim=True, by=staff, now=kst(2027, 3, 8, 11, 0)
    )
    services.add_follow_up(
        linked, f"{NAME}입니다. 추가 자료 보냅니다.", user=person, now=kst(2027, 3, 8, 12, 0)
    )
    services.resolve(linked, f"{NAME}님께 교재를 보냈습니다.", by=staff, now=kst(2027, 3, 9, 9, 0))
    file(None, subject="비회원 때 문의", name=NAME, email=EMAIL, phone=PHONE)
    colleague = file(None, subject="동료 문의", message=f"{NAME} 과장과 같이 들었습니다.")
    db.session.commit()
    before = services.voice_standard(2027, now=kst(2027, 12, 31, 0, 0))

    login(client, person.email)
    assert post_form(client, "/me/delete", {"password": PASSWORD}).status_code == 302

    db.session.expire_all()
    found = {
        name: values for name, values in columns_holding_the_person().items() if "voice" in name
    }
    assert found == {}
    assert services.voice_standard(2027, now=kst(2027, 12, 31, 0, 0)) == before
    assert "과장과 같이 들었습니다." in db.session.get(type(colleague), colleague.id).message
    assert db.session.get(type(linked), linked.id).resolved_at == kst(2027, 3, 9, 9, 0)


def test_an_open_item_of_an_erased_filer_is_not_answered_but_can_be_closed(client) -> None:
    person = make_user(name=NAME, email=EMAIL, phone=PHONE)
    staff = make_user(Role.STAFF)
    item = file(person, name=NAME, email=EMAIL)
    db.session.commit()
    login(client, person.email)
    assert post_form(client, "/me/delete", {"password": PASSWORD}).status_code == 302
    db.session.expire_all()
    item = db.session.get(type(item), item.id)
    assert item.scrubbed_at is not None and item.email == "erased@deleted.invalid"
    with pytest.raises(services.VoiceError):
        services.reply(item, "답변", interim=False, by=staff)
    services.close(item, by=staff)
    assert item.first_reply_at is None  # closed unanswered: it stays out of "answered"
