"""Hostile clients: forged hosts, opaque one-time links, sign-in lock-out that holds across
workers, rate limits in Redis, proxies, security headers and sessions that end."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app import create_app
from app.core.accounts.models import AccountToken, TokenPurpose, User
from app.core.accounts.services import hash_token
from app.core.extensions import db
from app.core.outbox import MailStatus, OutboxMessage, queue, send_due
from app.core.security import SIGNED_IN_AT
from app.core.timeutil import utcnow
from tests.conftest import csrf_token, login, post_form
from tests.factories import PASSWORD, make_user

RESET_LINK = re.compile(r"(https?://[^/\s]+)/auth/set-password/([A-Za-z0-9_-]+)")
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def mails_to(address: str) -> list[OutboxMessage]:
    return list(
        db.session.execute(
            select(OutboxMessage).where(OutboxMessage.to_address == address)
        ).scalars()
    )


def ask_for_reset(client, email: str, base_url: str = "http://localhost"):
    page = client.get("/auth/forgot", base_url=base_url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(
        "/auth/forgot", data={"csrf_token": token, "email": email}, base_url=base_url
    )


# --- Links from BASE_URL only ------------------------------------------------------------


def test_a_forged_host_is_refused_and_queues_no_mail(client) -> None:
    user = make_user()
    token = csrf_token(client)
    response = client.post(
        "/auth/forgot",
        data={"csrf_token": token, "email": user.email},
        headers={"Host": "evil.example"},
    )
    assert response.status_code == 400
    assert mails_to(user.email) == []


def test_links_come_from_base_url_even_on_another_trusted_host(app, client) -> None:
    app.config.update(
        BASE_URL="https://edu.example.org", TRUSTED_HOSTS=["localhost", "alias.example"]
    )
    user = make_user()
    response = ask_for_reset(client, user.email, base_url="http://alias.example")
    assert response.status_code == 302
    (mail,) = mails_to(user.email)
    origin, _ = RESET_LINK.search(mail.body).groups()
    assert origin == "https://edu.example.org"
    assert "alias.example" not in mail.body and "localhost" not in mail.body


def test_the_certificate_qr_target_comes_from_base_url(app) -> None:
    from certificates import services as certificates

    app.config["BASE_URL"] = "https://edu.example.org"
    with app.test_request_context("/", base_url="http://localhost"):
        url = certificates.verify_url(type("C", (), {"verification_code": "ABCD"})())
    assert url == "https://edu.example.org/certificates/verify/ABCD"


# --- Opaque, hashed, single-use, short-lived tokens -------------------------------------------


def test_a_reset_link_is_opaque_stored_hashed_and_works_once(client) -> None:
    user = make_user()
    ask_for_reset(client, user.email)
    _, token = RESET_LINK.search(mails_to(user.email)[0].body).groups()

    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 32 random bytes, nothing else
    assert user.password_hash[-16:] not in token
    row = db.session.execute(select(AccountToken)).scalar_one()
    assert row.token_hash == hash_token(token) and token not in row.token_hash
    assert row.expires_at - row.created_at == timedelta(hours=1)

    form = {"password": "a brand new passphrase", "confirm": "a brand new passphrase"}
    assert post_form(client, f"/auth/set-password/{token}", form).status_code == 302
    assert client.get(f"/auth/set-password/{token}").status_code == 410
    assert post_form(client, f"/auth/set-password/{token}", form).status_code == 410


def test_a_reset_link_expires_after_an_hour(client) -> None:
    user = make_user()
    ask_for_reset(client, user.email)
    _, token = RESET_LINK.search(mails_to(user.email)[0].body).groups()
    db.session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(f"/auth/set-password/{token}").status_code == 410


def test_a_new_reset_link_replaces_the_old_one(client) -> None:
    user = make_user()
    ask_for_reset(client, user.email)
    ask_for_reset(client, user.email)
    first, second = (RESET_LINK.search(m.body).group(2) for m in mails_to(user.email))
    assert client.get(f"/auth/set-password/{first}").status_code == 410
    assert client.get(f"/auth/set-password/{second}").status_code == 200


def test_an_invitation_link_lasts_seven_days(app) -> None:
    from app.core.accounts import services

    user = make_user()
    services.queue_password_mail(user, invitation=True)
    db.session.commit()
    row = db.session.execute(select(AccountToken)).scalar_one()
    assert row.purpose == TokenPurpose.INVITATION
    assert row.expires_at - row.created_at == timedelta(days=7)


def test_a_made_up_or_oversized_token_is_just_invalid(client) -> None:
    for token in (secrets.token_urlsafe(32), "x" * 5000):
        assert client.get(f"/auth/set-password/{token}").status_code in (404, 410)


# --- The mail queue cannot jam ---------------------------------------------------------------


def test_a_name_with_a_line_break_cannot_stop_the_queue(app, smtp_server) -> None:
    # A row written before names were checked, or by any path that skipped the check.
    db.session.add(
        OutboxMessage(
            to_address="victim@example.com",
            to_name="Mallory\r\nBcc: everyone@example.com",
            subject="x",
            body="x",
        )
    )
    db.session.flush()
    # Make the row unbuildable the way the review found it: a header with CR/LF.
    db.session.execute(update(OutboxMessage).values(subject="Hi\r\nBcc: everyone@example.com"))
    for n in range(10):
        queue(
            f"good{n}@example.com",
            f"Message {n}",
            "message",
            context={"text": "Hello"},
            to_name=f"Good {n}",
        )
    db.session.commit()

    report = send_due()

    assert report.sent == 10 and report.failed == 1 and not report.stopped_early
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_server.messages) == sorted(
        f"good{n}@example.com" for n in range(10)
    )
    bad = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.to_address == "victim@example.com")
    ).scalar_one()
    assert bad.status == MailStatus.FAILED and bad.last_error
    assert send_due().sent == 0  # nothing stuck in "sending", nothing retried forever


def test_queue_takes_line_breaks_out_of_headers(app, smtp_server) -> None:
    queue(
        "learner@example.com",
        "Subject\r\nBcc: everyone@example.com",
        "message",
        context={"text": "Hello"},
        to_name="Name\nBcc: everyone@example.com",
    )
    db.session.commit()
    assert send_due().sent == 1
    (message,) = smtp_server.messages
    assert message["Bcc"] is None
    assert [a.addr_spec for a in message["To"].addresses] == ["learner@example.com"]
    assert "\n" not in message["Subject"]


# --- Sign-in lock-out and rate limits ---------------------------------------------------------


def wrong_password(client, email: str):
    return post_form(client, "/auth/login", {"email": email, "password": "not the password"})


def test_five_failed_sign_ins_lock_the_account_in_every_worker(app, database_url) -> None:
    user = make_user()
    other_worker = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": database_url})
    clients = [app.test_client(), other_worker.test_client()]
    for attempt in range(5):
        assert wrong_password(clients[attempt % 2], user.email).status_code == 200

    for client in clients:  # the right password is refused while locked, in both workers
        response = post_form(client, "/auth/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 429
        assert "15" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until > utcnow()

    db.session.execute(update(User).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    login(clients[0], user.email)


def test_a_good_sign_in_clears_the_failure_count(client) -> None:
    user = make_user()
    for _ in range(4):
        wrong_password(client, user.email)
    login(client, user.email)
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 0


def limited_app(app, **config):
    """A second app on the same database with the rate limits on (the suite turns them
    off); the limiter is one object per process, as in production."""
    from app.core.extensions import limiter

    limited = create_app({**app.config, "RATELIMIT_ENABLED": True, **config})
    limiter.reset()
    return limited


def test_an_unknown_address_answers_exactly_like_a_locked_one(app) -> None:
    limited = limited_app(app)
    known = make_user(email="known@example.com")
    answers = {}
    for email in (known.email, "nobody@example.com"):
        client = limited.test_client()
        for _ in range(5):
            wrong_password(client, email)
        response = wrong_password(client, email)
        page = re.sub(r'value="[^"]*"', "", response.get_data(as_text=True))
        answers[email] = (response.status_code, page.replace(email, "@"))
    assert answers[known.email] == answers["nobody@example.com"]
    assert answers[known.email][0] == 429


def redis_url() -> str | None:
    try:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5).ping()
    except Exception:
        return None
    return "redis://127.0.0.1:6379/15"


@pytest.mark.skipif(redis_url() is None, reason="no Redis answering on 127.0.0.1:6379")
def test_the_sign_in_limit_holds_across_workers_with_redis(app) -> None:
    import redis

    prefix = f"coursedesk-test-{secrets.token_hex(4)}"
    config = {"RATELIMIT_STORAGE_URI": redis_url(), "RATELIMIT_KEY_PREFIX": prefix}
    workers = [limited_app(app, **config), limited_app(app, **config)]
    codes = []
    try:
        for attempt in range(12):  # a new address each time: only the per-client limit counts
            client = workers[attempt % 2].test_client()
            codes.append(wrong_password(client, f"person{attempt}@example.com").status_code)
    finally:
        connection = redis.Redis.from_url(redis_url())
        for key in connection.scan_iter(f"{prefix}*"):
            connection.delete(key)
    # 10 per minute from one client address, counted together by both workers.
    assert codes == [200] * 10 + [429] * 2, codes


def test_behind_a_trusted_proxy_the_client_address_and_https_are_believed(app) -> None:
    behind_proxy = limited_app(app, TRUSTED_PROXIES=1)
    user = make_user()
    client = behind_proxy.test_client()
    headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "203.0.113.7",
        "Referer": "https://localhost/auth/login",
    }
    page = client.get("/auth/login", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/auth/login",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
        headers=headers,
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")

    # Ten attempts from one client address behind the proxy are limited; another is not.
    def attempt(address: str) -> int:
        other = behind_proxy.test_client()
        return wrong_password_from(other, address).status_code

    codes = [attempt("198.51.100.1") for _ in range(11)]
    assert codes[-1] == 429 and 429 not in codes[:10]
    assert attempt("198.51.100.2") == 200


def wrong_password_from(client, address: str):
    headers = {"X-Forwarded-For": address}
    page = client.get("/auth/login", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    email = f"{secrets.token_hex(4)}@example.com"
    return client.post(
        "/auth/login",
        data={"csrf_token": token, "email": email, "password": "nope"},
        headers=headers,
    )


# --- Headers and sessions -----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/courses/", "/auth/login", "/no/such/page", "/healthz"])
def test_every_response_carries_the_security_headers(client, url: str) -> None:
    headers = client.get(url).headers
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP: no HSTS


def test_hsts_on_https(client) -> None:
    assert (
        "max-age"
        in client.get("/", base_url="https://localhost").headers["Strict-Transport-Security"]
    )


def test_personal_pages_are_never_stored(client) -> None:
    login(client, make_user().email)
    for url in ("/me/", "/me/data.json", "/auth/password"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url


def test_pages_reached_by_a_personal_link_are_never_stored(client) -> None:
    assert client.get("/auth/set-password/whatever").headers["Cache-Control"] == "no-store"


def test_no_template_holds_inline_script_or_style() -> None:
    """The CSP allows neither, so any such attribute would silently stop working.

    Mail is not a page of the site: mail clients drop style sheets, so its templates style
    inline (the staff preview serves them with a CSP of their own), but never script."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=|<style", re.IGNORECASE)
    script = re.compile(r"<script|\son[a-z]+=|javascript:", re.IGNORECASE)
    pdf_only = {"leaflet.html", "certificate.html", "visit_report.html"}
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if path.name not in pdf_only
        and "_pdf" not in path.name
        and "pdf" not in path.stem
        and (script if path.parent.name == "mail" else inline).search(path.read_text())
    ]
    assert offenders == []


def test_a_session_ends_twelve_hours_after_sign_in_however_active(client) -> None:
    login(client, make_user().email)
    assert client.get("/auth/password").status_code == 200
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = (utcnow() - timedelta(hours=12, minutes=1)).isoformat()
    response = client.get("/auth/password")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_session_slides_for_two_hours_only(app) -> None:
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=2)
    assert app.config["SESSION_ABSOLUTE_LIFETIME"] == timedelta(hours=12)


def test_the_account_count_is_unchanged_by_a_refused_registration(client) -> None:
    before = db.session.execute(select(func.count()).select_from(User)).scalar_one()
    post_form(client, "/auth/register", {"email": "x@example.com", "name": "\x00"})
    after = db.session.execute(select(func.count()).select_from(User)).scalar_one()
    assert before == after
