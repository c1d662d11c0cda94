"""Mail as mail clients and spam filters read it: every header RFC 5322 asks for, RFC
2047 words within 75 characters, multipart/alternative from one template, attachments
with their parameters, DKIM that verifies."""

from __future__ import annotations

import base64
import re
from email import message_from_bytes, policy

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.core import outbox
from app.core.extensions import db
from app.core.outbox import OutboxMessage

ENCODED_WORD = re.compile(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=")


def _queue(**overrides) -> OutboxMessage:
    values = {
        "context": {"text": "김수출님, 안녕하십니까.\n\n교육 안내입니다."},
        "to_name": "김수출",
    }
    values.update(overrides)
    outbox.queue(
        values.pop("to", "kim@example.com"),
        values.pop("subject", "[교육 안내] 전략물자 판정 실무"),
        values.pop("kind", "message"),
        **values,
    )
    db.session.flush()
    return (
        db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        .scalars()
        .first()
    )


def _wire(message: OutboxMessage):
    data, _ = outbox.wire_bytes(outbox.build_email(message))
    return data, message_from_bytes(data, policy=policy.default)


def test_a_system_mail_has_every_header_and_both_parts(app) -> None:
    with app.test_request_context():
        data, parsed = _wire(_queue())
    assert not parsed.defects
    for header in ("Date", "Message-ID", "From", "To", "Subject", "MIME-Version"):
        assert parsed[header], header
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Message-ID"].endswith("@coursedesk.invalid>")
    assert parsed.get_content_type() == "multipart/alternative"
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert "김수출님" in plain.get_content() and "김수출님" in html.get_content()
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")


def test_a_staff_members_reply_is_not_marked_auto_submitted(app) -> None:
    with app.test_request_context():
        _, parsed = _wire(_queue(auto_generated=False))
    assert parsed["Auto-Submitted"] is None


def test_the_html_part_loads_nothing_from_elsewhere(app) -> None:
    with app.test_request_context():
        _, parsed = _wire(_queue(unsubscribe_url="http://localhost/announcements/unsubscribe/x"))
    html = parsed.get_body(("html",)).get_content()
    assert "<img" not in html and "<script" not in html and "<link" not in html
    assert 'href="http://localhost/announcements/unsubscribe/x"' in html
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_calendar_attachment_keeps_charset_and_method(app) -> None:
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nX-WR-CALNAME:한국어 달력\r\nEND:VCALENDAR\r\n"
    attachment = outbox.Attachment(
        "course-1.ics", "text/calendar; charset=utf-8; method=REQUEST", ics.encode()
    )
    with app.test_request_context():
        _, parsed = _wire(_queue(attachments=[attachment]))
    (part,) = list(parsed.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("charset") == "utf-8"
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == "course-1.ics"
    assert "한국어 달력" in part.get_content()
    assert "\ufffd" not in part.get_content()


korean_text = st.text(
    alphabet=st.sampled_from("가나다라마바사아자차카타파하전략물자수출통제 abc—·()[]é"),
    min_size=1,
    max_size=180,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(subject=korean_text, name=korean_text)
def test_no_encoded_word_is_longer_than_75_characters(app, subject, name) -> None:
    with app.test_request_context():
        data, parsed = _wire(_queue(subject=subject, to_name=name))
    head = data.split(b"\r\n\r\n", 1)[0]
    assert all(len(word) <= 75 for word in ENCODED_WORD.findall(head))
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    assert parsed["Subject"] == " ".join(subject.split()) or parsed["Subject"] == subject.strip()


@pytest.fixture
def dkim_key(app, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    app.config.update(DKIM_PRIVATE_KEY_PATH=str(path), DKIM_SELECTOR="mail2026")
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_with_a_key_configured_mail_is_dkim_signed_and_verifies_as_received(
    app, smtp_server, dkim_key
) -> None:
    with app.test_request_context():
        _queue()
    db.session.commit()

    outbox.send_due()

    (received,) = smtp_server.raw
    assert received.startswith(b"DKIM-Signature:")
    records = {b"mail2026._domainkey.coursedesk.invalid.": dkim_key}
    assert dkim.verify(received, dnsfunc=lambda name, timeout=5: records.get(name))
    tampered = received.replace(b"<kim@example.com>", b"<lee@example.com>", 1)
    assert tampered != received
    assert not dkim.verify(tampered, dnsfunc=lambda name, timeout=5: records.get(name))


def test_without_a_key_mail_is_not_signed(app, smtp_server) -> None:
    with app.test_request_context():
        _queue()
    db.session.commit()
    outbox.send_due()
    (received,) = smtp_server.raw
    assert b"DKIM-Signature" not in received
    assert message_from_bytes(received, policy=policy.default)["Date"]
