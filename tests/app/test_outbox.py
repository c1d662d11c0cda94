"""The outbox delivers over real SMTP (aiosmtpd on loopback), once, and loses nothing."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from app.core import outbox
from app.core.extensions import db
from app.core.outbox import MailStatus, OutboxMessage


def queue_mails(count: int) -> None:
    for n in range(count):
        outbox.queue(
            f"learner{n}@example.com",
            f"안내 {n}",
            "message",
            context={"text": f"본문 {n}\n수출통제 교육"},
            to_name=f"교육생{n}",
        )
    db.session.commit()


def statuses() -> Counter:
    db.session.expire_all()
    return Counter(db.session.execute(select(OutboxMessage.status)).scalars())


def test_mail_is_delivered_over_smtp_in_korean(app, smtp_server) -> None:
    outbox.queue(
        "kim@example.com",
        "[교육 안내] 전략물자 판정 실무",
        "message",
        context={"text": "김수출님, 안녕하십니까."},
        to_name="김수출",
        attachments=[
            outbox.Attachment(
                "course.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
            )
        ],
    )
    db.session.commit()

    report = outbox.send_due()

    assert (report.sent, report.deferred, report.failed) == (1, 0, 0)
    (message,) = smtp_server.messages
    assert message["Subject"] == "[교육 안내] 전략물자 판정 실무"
    assert message["To"] == "김수출 <kim@example.com>"
    assert "김수출님" in message.get_body(("plain",)).get_content()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "course.ics"
    assert statuses() == {MailStatus.SENT: 1}


def test_the_same_dedupe_key_is_queued_once(app) -> None:
    assert (
        outbox.queue("a@example.com", "s", "message", context={"text": "b"}, dedupe_key="r:1")
        is True
    )
    assert (
        outbox.queue("a@example.com", "s", "message", context={"text": "b"}, dedupe_key="r:1")
        is False
    )
    db.session.commit()
    assert sum(statuses().values()) == 1


def test_an_unreachable_server_leaves_every_mail_queued(app, smtp_server) -> None:
    queue_mails(3)
    smtp_server.stop()

    report = outbox.send_due()

    assert report.stopped_early and report.sent == 0
    assert statuses() == {MailStatus.PENDING: 3}
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 75  # EX_TEMPFAIL, for cron to notice


def test_stopping_the_server_mid_run_loses_nothing_and_sends_nothing_twice(
    app, smtp_server
) -> None:
    queue_mails(10)
    handler = smtp_server.handler
    original = handler.handle_DATA

    async def shut_down_after_four(server, session, envelope):
        if len(handler.messages) == 4:
            return "421 Service shutting down"  # and the server goes away
        return await original(server, session, envelope)

    handler.handle_DATA = shut_down_after_four
    first = outbox.send_due(batch_size=3)
    smtp_server.stop()

    assert first.stopped_early
    assert first.sent == 4
    assert statuses() == {MailStatus.SENT: 4, MailStatus.PENDING: 6}
    assert outbox.send_due().stopped_early  # still down: nothing changes
    assert statuses() == {MailStatus.SENT: 4, MailStatus.PENDING: 6}

    handler.handle_DATA = original
    smtp_server.start()
    second = outbox.send_due()

    assert second.sent == 6
    assert statuses() == {MailStatus.SENT: 10}
    delivered = Counter(message["Message-ID"] for message in handler.messages)
    assert len(delivered) == 10 and set(delivered.values()) == {1}
    assert sorted(m["To"] for m in handler.messages) == sorted(
        f"교육생{n} <learner{n}@example.com>" for n in range(10)
    )


def test_a_permanently_refused_recipient_fails_at_once(app, smtp_server) -> None:
    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 No such user"

    smtp_server.handler.handle_RCPT = refuse
    queue_mails(1)
    report = outbox.send_due()
    assert (report.sent, report.failed) == (0, 1)
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert message.status == MailStatus.FAILED  # 5xx is permanent: no point retrying
    assert "550" in message.last_error


def test_a_temporary_refusal_is_retried_later_with_backoff(app, smtp_server) -> None:
    from datetime import timedelta

    from app.core.timeutil import utcnow

    async def busy(server, session, envelope, address, rcpt_options):
        return "450 Mailbox busy, try later"

    smtp_server.handler.handle_RCPT = busy
    queue_mails(1)
    report = outbox.send_due()
    assert (report.sent, report.deferred) == (0, 1)
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert (message.status, message.attempts) == (MailStatus.PENDING, 1)
    assert message.next_attempt_at > utcnow() + timedelta(seconds=30)
    assert outbox.send_due().sent == 0  # not due yet: backing off


def test_two_senders_at_once_never_send_a_message_twice(app, smtp_server) -> None:
    import threading

    queue_mails(40)
    barrier = threading.Barrier(2)
    reports = []

    def sender():
        with app.app_context():
            barrier.wait()
            reports.append(outbox.send_due(batch_size=5))
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.sent for r in reports) == 40
    delivered = Counter(message["Message-ID"] for message in smtp_server.messages)
    assert len(delivered) == 40 and set(delivered.values()) == {1}
