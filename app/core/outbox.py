"""The mail outbox: mail is written in the transaction of the change it reports, and
delivered later over SMTP by `flask --app app outbox send` (cron), never inside a request.

Delivery claims rows before sending them: with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so
several senders on several machines never take the same row, and with a conditional
UPDATE on SQLite, which has one writer at a time anyway. A message is marked sent in its
own commit right after the SMTP server accepted it. When the server is unreachable the
run stops and every unsent message stays queued for the next run, with a backoff.
"""

from __future__ import annotations

import enum
import logging
import re
import secrets
import smtplib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import ForeignKey, LargeBinary, String, Text, delete, func, select, true, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import mail
from app.core.erasure import ERASED_ADDRESS, Person, scrub_columns
from app.core.extensions import db, enum_type, insert_ignoring_conflicts
from app.core.timeutil import UTCDateTime, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
#: A claim older than this is considered abandoned (the sender died) and is taken again.
CLAIM_LEASE = timedelta(minutes=15)


class MailStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Identifies the logical mail ("reminder:course:3:enrollment:9"); a second queue() of
    #: the same key is ignored, so racing cron runs cannot queue a mail twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(300))
    #: Which mail this is: the name of its template under templates/mail/ ("course_reminder").
    kind: Mapped[str] = mapped_column(String(60), default="message", index=True)
    #: The plain-text part, and the HTML part rendered from the same template.
    body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    #: Sent by the system (Auto-Submitted: auto-generated); False for a staff member's reply.
    auto_generated: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: URL for one-click unsubscribe (RFC 8058), newsletter mail only.
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[MailStatus] = mapped_column(
        enum_type(MailStatus), default=MailStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )


class OutboxAttachment(db.Model):
    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def queue(
    to: str,
    subject: str,
    kind: str,
    *,
    context: Mapping[str, Any] | None = None,
    to_name: str | None = None,
    dedupe_key: str | None = None,
    attachments: Iterable[Attachment] = (),
    unsubscribe_url: str | None = None,
    responsible: mail.Contact | None = None,
    auto_generated: bool = True,
) -> bool:
    """Queue a mail of `kind` (templates/mail/<kind>.html) in the current transaction.

    Both parts are rendered now, in the transaction of the change they report, so the
    log shows exactly what went out. False when `dedupe_key` was queued before.

    Header values (the address, the name, the subject) lose any control character here:
    forms refuse them at the edge, and this keeps one bad row from ever reaching SMTP.
    """
    to, to_name, subject = header_value(to), header_value(to_name), header_value(subject)
    rendered = mail.render(
        kind,
        subject=subject,
        context={"to_name": to_name, **(context or {})},
        responsible=responsible,
        unsubscribe_url=unsubscribe_url,
    )
    values = {
        "dedupe_key": dedupe_key,
        "to_address": to,
        "to_name": to_name,
        "subject": subject,
        "kind": kind,
        "body": rendered.text,
        "html_body": rendered.html,
        "auto_generated": auto_generated,
        "unsubscribe_url": unsubscribe_url,
        "status": MailStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "created_at": utcnow(),
    }
    table = OutboxMessage.__table__
    statement = (
        insert_ignoring_conflicts(table, on=["dedupe_key"]).values(**values).returning(table.c.id)
    )
    message_id = db.session.execute(statement).scalar_one_or_none()
    if message_id is None:
        return False
    for attachment in attachments:
        db.session.add(
            OutboxAttachment(
                message_id=message_id,
                filename=attachment.filename,
                content_type=attachment.content_type,
                data=attachment.data,
            )
        )
    return True


def resend(message: OutboxMessage) -> None:
    """Put a failed message back in the queue, due now, with a fresh count of attempts."""
    if message.status != MailStatus.FAILED:
        raise ValueError("only a failed message is sent again")
    message.status = MailStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.claimed_by = None
    db.session.flush()


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def header_value(value: str | None) -> str | None:
    """A value safe for a mail header: control characters and line breaks become a space."""
    if value is None:
        return None
    return _CONTROL.sub(" ", value).strip()


# --- Delivery ----------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    stopped_early: bool = False

    def __str__(self) -> str:
        text = f"sent {self.sent}, deferred {self.deferred}, failed {self.failed}"
        return text + (" (SMTP server unreachable: stopped)" if self.stopped_early else "")


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached; nothing more can be sent in this run."""


class MessageRefused(Exception):
    """The server refused this one message: for now (4xx) or for good (5xx)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def claim_batch(limit: int, *, now: datetime | None = None) -> list[OutboxMessage]:
    """Claim up to `limit` due messages for this sender and commit the claim."""
    now = now or utcnow()
    due = (
        (OutboxMessage.status == MailStatus.PENDING) & (OutboxMessage.next_attempt_at <= now)
    ) | (
        (OutboxMessage.status == MailStatus.SENDING)
        & (OutboxMessage.claimed_at < now - CLAIM_LEASE)
    )
    claim = secrets.token_hex(8)
    if db.session.get_bind().dialect.name == "postgresql":
        ids = list(
            db.session.execute(
                select(OutboxMessage.id)
                .where(due)
                .order_by(OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).scalars()
        )
        condition = OutboxMessage.id.in_(ids)
    else:
        condition = (
            OutboxMessage.id.in_(
                select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)
            )
            & due
        )
    db.session.execute(
        update(OutboxMessage)
        .where(condition)
        .values(status=MailStatus.SENDING, claimed_by=claim, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    # The claim is its own unit of work: other senders must see it before this one talks
    # to the SMTP server, or two machines would send the same message.
    db.session.commit()
    return list(
        db.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.claimed_by == claim)
            .order_by(OutboxMessage.id)
        ).scalars()
    )


def send_due(*, batch_size: int = 50, limit: int | None = None) -> DeliveryReport:
    """Deliver due messages until none is left (or `limit` were tried)."""
    report = DeliveryReport()
    tried = 0
    backend = current_app.config["MAIL_BACKEND"]
    with _transport(backend) as transport:
        while limit is None or tried < limit:
            batch = claim_batch(batch_size if limit is None else min(batch_size, limit - tried))
            if not batch:
                break
            for position, message in enumerate(batch):
                tried += 1
                try:
                    transport.send(_buildable(message))
                except SmtpUnavailable as error:
                    _release(batch[position:], str(error))
                    report.deferred += len(batch) - position
                    report.stopped_early = True
                    return report
                except MessageRefused as error:
                    if _defer(message, str(error), permanent=error.permanent):
                        report.deferred += 1
                    else:
                        report.failed += 1
                else:
                    _mark_sent(message)
                    report.sent += 1
    return report


def _buildable(message: OutboxMessage) -> EmailMessage:
    """The message as MIME, or MessageRefused for good: a row that cannot become a mail
    (a header with a line break, an address no server can take) fails alone, with its
    error, and the queue goes on behind it."""
    try:
        return build_email(message)
    except (ValueError, TypeError, UnicodeError, MessageError) as error:
        raise MessageRefused(f"cannot build the message: {error}", permanent=True) from error


def _mark_sent(message: OutboxMessage) -> None:
    message.status = MailStatus.SENT
    message.sent_at = utcnow()
    message.attempts += 1
    message.claimed_by = None
    message.last_error = None
    # One unit of work per message: once the server accepted it, "sent" must stick even
    # if a later message of the same run fails.
    db.session.commit()


def _defer(message: OutboxMessage, error: str, *, permanent: bool) -> bool:
    """Schedule a retry with exponential backoff; True unless the message gave up."""
    message.attempts += 1
    message.last_error = error[:500]
    message.claimed_by = None
    if permanent or message.attempts >= MAX_ATTEMPTS:
        message.status = MailStatus.FAILED
    else:
        message.status = MailStatus.PENDING
        message.next_attempt_at = utcnow() + backoff(message.attempts)
    db.session.commit()  # one unit of work per message, as in _mark_sent
    return message.status == MailStatus.PENDING


def _release(messages: list[OutboxMessage], error: str) -> None:
    """Give claimed messages back to the queue, due at once: the next run tries them again.

    No attempt is counted: the server being down says nothing about the messages.
    """
    for message in messages:
        message.status = MailStatus.PENDING
        message.claimed_by = None
        message.last_error = error[:500]
    db.session.commit()  # the run stops here: give the claims back for the next run


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** (attempts - 1)), timedelta(hours=6))


#: The email package's default policy, folding at 76 so that no RFC 2047 encoded word
#: passes 75 characters (at 78 the folder makes 76-character words of Korean text).
MAIL_POLICY = policy.default.clone(max_line_length=76)


def build_email(message: OutboxMessage) -> EmailMessage:
    """The message as MIME, by the email package's default policy (RFC 5322 headers,
    RFC 2047 encoded words, folding): multipart/alternative with the text and the HTML
    part, inside multipart/mixed when there are attachments."""
    config = current_app.config
    sender = config["MAIL_DEFAULT_SENDER"]
    email = EmailMessage(policy=MAIL_POLICY)
    email["From"] = Address(config["INSTITUTE_NAME"], addr_spec=sender)
    email["To"] = Address(message.to_name or "", addr_spec=message.to_address)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    domain = config["MAIL_MESSAGE_ID_DOMAIN"] or sender.rpartition("@")[2] or "coursedesk"
    # Stable per outbox row, so a receiving server can drop a retried duplicate.
    email["Message-ID"] = f"<outbox-{message.id}-{message.created_at:%Y%m%d%H%M%S}@{domain}>"
    if message.auto_generated:
        email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
        email["X-Auto-Response-Suppress"] = "All"
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    for attachment in message.attachments:
        _attach(email, attachment)
    return email


def _attach(email: EmailMessage, attachment: OutboxAttachment) -> None:
    """Attach with the parameters of the stored content type (charset, method=...)."""
    content_type = policy.default.header_factory("Content-Type", attachment.content_type)
    params = dict(content_type.params)
    if content_type.maintype == "text":
        charset = params.pop("charset", "utf-8")
        email.add_attachment(
            attachment.data.decode(charset),
            subtype=content_type.subtype,
            charset="utf-8",
            filename=attachment.filename,
            params=params,
        )
    else:
        email.add_attachment(
            attachment.data,
            maintype=content_type.maintype,
            subtype=content_type.subtype,
            filename=attachment.filename,
            params=params,
        )


def wire_bytes(email: EmailMessage) -> tuple[bytes, bool]:
    """The message as sent over SMTP (CRLF), DKIM-signed when a key is configured, and
    whether it needs SMTPUTF8 (an address outside ASCII)."""
    addresses = [*email["From"].addresses, *email["To"].addresses]
    needs_utf8 = not all(address.addr_spec.isascii() for address in addresses)
    wire = MAIL_POLICY.clone(linesep="\r\n", utf8=needs_utf8)
    data = email.as_bytes(policy=wire)
    return _dkim_signed(data), needs_utf8


def _dkim_signed(data: bytes) -> bytes:
    config = current_app.config
    key_path = config["DKIM_PRIVATE_KEY_PATH"]
    if not key_path:
        return data
    import dkim

    with open(key_path, "rb") as key_file:
        private_key = key_file.read()
    domain = config["DKIM_DOMAIN"] or config["MAIL_DEFAULT_SENDER"].rpartition("@")[2]
    signature = dkim.sign(
        data,
        config["DKIM_SELECTOR"].encode(),
        domain.encode(),
        private_key,
        include_headers=[
            b"From",
            b"To",
            b"Subject",
            b"Date",
            b"Message-ID",
            b"MIME-Version",
            b"Content-Type",
            b"List-Unsubscribe",
            b"List-Unsubscribe-Post",
        ],
    )
    return signature + data


class _LogTransport:
    """Development: write mail to the log instead of sending it."""

    def send(self, email: EmailMessage) -> None:
        log.info(
            "Mail to %s: %s\n%s",
            email["To"],
            email["Subject"],
            email.get_body(("plain",)).get_content(),
        )

    def close(self) -> None:
        pass


class _SmtpTransport:
    def __init__(self) -> None:
        self.connection: smtplib.SMTP | None = None

    def open(self) -> None:
        config = current_app.config
        try:
            connection = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30)
            if config["MAIL_USE_TLS"]:
                connection.starttls()
            if config["MAIL_USERNAME"]:
                connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        except (OSError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected) as error:
            raise SmtpUnavailable(f"cannot reach the SMTP server: {error}") from error
        self.connection = connection

    def send(self, email: EmailMessage) -> None:
        if self.connection is None:
            self.open()
        data, needs_utf8 = wire_bytes(email)
        options = ["SMTPUTF8", "BODY=8BITMIME"] if needs_utf8 else []
        try:
            if needs_utf8 and not self.connection.has_extn("smtputf8"):
                raise smtplib.SMTPNotSupportedError("the server does not offer SMTPUTF8")
            self.connection.sendmail(
                email["From"].addresses[0].addr_spec,
                [email["To"].addresses[0].addr_spec],
                data,
                mail_options=options,
            )
        except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError) as error:
            self.connection = None
            raise SmtpUnavailable(f"the SMTP server went away: {error}") from error
        except (smtplib.SMTPNotSupportedError, UnicodeError, ValueError) as error:
            # e.g. a non-ASCII address and a server without SMTPUTF8: this message only.
            raise MessageRefused(f"the server cannot take it: {error}", permanent=True) from error
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise MessageRefused(
                f"recipient refused: {error.recipients}", permanent=min(codes) >= 500
            ) from error
        except smtplib.SMTPResponseException as error:
            if error.smtp_code == 421:  # "service not available, closing channel"
                self.connection = None
                raise SmtpUnavailable(f"the SMTP server is shutting down: {error}") from error
            raise MessageRefused(
                f"{error.smtp_code} {error.smtp_error!r}", permanent=error.smtp_code >= 500
            ) from error

    def close(self) -> None:
        if self.connection is not None:
            with suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection = None


@contextmanager
def _transport(backend: str) -> Iterator[_SmtpTransport | _LogTransport]:
    transport = _SmtpTransport() if backend == "smtp" else _LogTransport()
    try:
        yield transport
    finally:
        transport.close()


# --- CLI ---------------------------------------------------------------------------------


@click.group("outbox")
def outbox_cli() -> None:
    """The mail outbox."""


@outbox_cli.command("send")
@click.option("--batch-size", default=50, show_default=True)
@with_appcontext
def send_command(batch_size: int) -> None:
    """Deliver every due message over SMTP (safe to run on several machines at once)."""
    report = send_due(batch_size=batch_size)
    click.echo(f"Outbox: {report}.")
    if report.stopped_early:
        raise SystemExit(75)  # EX_TEMPFAIL: cron may alert; the mail is still queued


@outbox_cli.command("status")
@with_appcontext
def status_command() -> None:
    """Count messages by status."""
    from sqlalchemy import func

    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    for status, count in rows:
        click.echo(f"{status}: {count}")


def init_app(app: Flask) -> None:
    app.cli.add_command(outbox_cli)


def erase_recipient(person: Person) -> int:
    """Standard 10: mail to the person keeps its row, without what identifies them.

    Mail not yet sent is not sent any more (it is marked failed); sent and unsent alike lose
    the recipient, the body and the attachments, and keep a scrubbed subject, the status and
    the dedupe key, so the mail is counted and a cron run does not queue it again. Mail to
    other people that names the person is scrubbed where it does. Returns the number of
    messages to the person.
    """
    mine = list(
        db.session.execute(
            select(OutboxMessage.id).where(
                func.lower(OutboxMessage.to_address) == person.email.strip().lower()
            )
        ).scalars()
    )
    if mine:
        db.session.execute(
            delete(OutboxAttachment).where(OutboxAttachment.message_id.in_(mine)),
            execution_options={"synchronize_session": False},
        )
        unsent = OutboxMessage.status.in_([MailStatus.PENDING, MailStatus.SENDING])
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(mine), unsent)
            .values(status=MailStatus.FAILED, last_error="recipient erased on request"),
            execution_options={"synchronize_session": False},
        )
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(mine))
            .values(
                to_address=ERASED_ADDRESS,
                to_name=None,
                body="",
                html_body=None,
                unsubscribe_url=None,
            ),
            execution_options={"synchronize_session": False},
        )
    scrub_columns(OutboxMessage, ["to_name", "subject", "body", "html_body", "last_error"], person)
    return len(mine)
