"""Staff see what was sent: search the mail log, read a message, send a failed one again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core import outbox
from app.core.accounts.models import Role
from app.core.audit import AuditEntry
from app.core.extensions import db
from app.core.outbox import MailStatus, OutboxMessage
from app.core.timeutil import utcnow
from tests.conftest import login, post_form
from tests.factories import make_user


def _mail(to: str, subject: str, *, status: MailStatus = MailStatus.SENT, days_ago: int = 0):
    outbox.queue(to, subject, "message", context={"text": f"{subject} 본문"}, to_name="김수출")
    message = (
        db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        .scalars()
        .first()
    )
    message.status = status
    message.created_at = utcnow() - timedelta(days=days_ago)
    if status == MailStatus.FAILED:
        message.attempts = 8
        message.last_error = "550 mailbox unavailable"
    db.session.commit()
    return message


def test_staff_search_the_log_by_recipient_status_and_date(app, client) -> None:
    make_user(Role.STAFF, email="staff@example.com")
    with app.test_request_context():
        _mail("kim@example.com", "김 안내")
        _mail("lee@example.com", "이 안내", status=MailStatus.FAILED)
        _mail("park@example.com", "박 안내", days_ago=40)
    login(client, "staff@example.com")

    everything = client.get("/staff/mail/").get_data(as_text=True)
    assert all(subject in everything for subject in ("김 안내", "이 안내", "박 안내"))

    by_recipient = client.get("/staff/mail/?recipient=KIM@").get_data(as_text=True)
    assert "김 안내" in by_recipient and "이 안내" not in by_recipient

    failed = client.get("/staff/mail/?status=failed").get_data(as_text=True)
    assert "이 안내" in failed and "김 안내" not in failed

    since = (utcnow() - timedelta(days=7)).date().isoformat()
    recent = client.get(f"/staff/mail/?since={since}").get_data(as_text=True)
    assert "김 안내" in recent and "박 안내" not in recent

    by_kind = client.get("/staff/mail/?kind=newsletter").get_data(as_text=True)
    assert "김 안내" not in by_kind


def test_a_bad_filter_is_a_message_not_a_500(app, client) -> None:
    make_user(Role.STAFF, email="staff@example.com")
    login(client, "staff@example.com")
    for query in ("status=bogus", "kind=nope", "since=2026-13-40", "page=-3", "page=x"):
        response = client.get(f"/staff/mail/?{query}")
        assert response.status_code in (200, 400), query


def test_staff_read_a_message_with_its_html_part_sandboxed(app, client) -> None:
    make_user(Role.STAFF, email="staff@example.com")
    with app.test_request_context():
        message = _mail("kim@example.com", "김 안내")
    login(client, "staff@example.com")

    page = client.get(f"/staff/mail/{message.id}").get_data(as_text=True)
    assert "kim@example.com" in page and "김 안내 본문" in page
    assert f'src="/staff/mail/{message.id}/preview"' in page and "sandbox" in page

    preview = client.get(f"/staff/mail/{message.id}/preview")
    assert preview.mimetype == "text/html"
    assert "sandbox" in preview.headers["Content-Security-Policy"]
    assert "script-src" not in preview.headers["Content-Security-Policy"]
    assert "김 안내 본문" in preview.get_data(as_text=True)


def test_a_failed_message_is_sent_again_and_the_resend_is_audited(app, client) -> None:
    staff = make_user(Role.STAFF, email="staff@example.com")
    with app.test_request_context():
        failed = _mail("lee@example.com", "이 안내", status=MailStatus.FAILED)
        sent = _mail("kim@example.com", "김 안내")
    login(client, "staff@example.com")

    post_form(client, f"/staff/mail/{failed.id}/resend")
    post_form(client, f"/staff/mail/{sent.id}/resend")

    db.session.expire_all()
    assert db.session.get(OutboxMessage, failed.id).status == MailStatus.PENDING
    assert db.session.get(OutboxMessage, failed.id).attempts == 0
    assert db.session.get(OutboxMessage, sent.id).status == MailStatus.SENT
    entries = (
        db.session.execute(select(AuditEntry).where(AuditEntry.action == "outbox.resend"))
        .scalars()
        .all()
    )
    assert [(entry.actor_id, entry.object_id) for entry in entries] == [(staff.id, str(failed.id))]


def test_only_staff_see_the_mail_log(app, client) -> None:
    make_user(Role.LEARNER, email="learner@example.com")
    with app.test_request_context():
        message = _mail("kim@example.com", "김 안내")
    assert client.get("/staff/mail/").status_code in (302, 401, 403)
    login(client, "learner@example.com")
    for url in ("/staff/mail/", f"/staff/mail/{message.id}", f"/staff/mail/{message.id}/preview"):
        assert client.get(url).status_code in (403, 404), url
