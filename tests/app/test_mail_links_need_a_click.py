"""Issue 12: a link that arrives by mail and changes something only asks when it is opened.

A corporate link scanner (or a mail client's preview) GETs every link in a message. Each
such GET must change nothing and show a page with a button; the button POSTs a form with
the CSRF token, and only that POST acts. A POST without the token is refused. The one
exception is the newsletter's RFC 8058 one-click unsubscribe, which mail clients POST
without any token: the secret link is the proof there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.core.accounts.models import AccountToken, Role, User
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from app.core.timeutil import utcnow
from courses import enrolment, invitations
from courses.models import Course, CourseInvitation, Enrollment, EnrollmentStatus, Subscriber
from tests.app.test_accounts import registration
from tests.app.test_fault_injection import onsite_request
from tests.conftest import login, post_form
from tests.factories import make_course, make_user
from visits import services as visits
from visits.models import RequestState, Signup

#: A page that asks: a form that POSTs the CSRF token with a submit button.
FORM_WITH_BUTTON = re.compile(
    r'<form method="post"[^>]*>.*?name="csrf_token".*?<button[^>]*>.*?</button>.*?</form>',
    re.DOTALL,
)


def mailed_path(address: str, prefix: str) -> str:
    """The path of the link starting with `prefix` in the newest mail to `address`."""
    body = (
        db.session.execute(
            select(OutboxMessage.body)
            .where(OutboxMessage.to_address == address)
            .order_by(OutboxMessage.id.desc())
        )
        .scalars()
        .first()
    )
    assert body is not None, f"no mail to {address}"
    match = re.search(rf"http://localhost({re.escape(prefix)}[^\s?]+)", body)
    assert match, body
    return match.group(1)


def database_state() -> dict[str, list[tuple]]:
    """Every row of every table, as another process would read it now."""
    db.session.rollback()
    return {
        table.name: [
            tuple(row)
            for row in db.session.execute(table.select().order_by(*table.primary_key.columns)).all()
        ]
        for table in db.metadata.sorted_tables
    }


def scalar(query) -> object:
    db.session.rollback()
    return db.session.execute(query).scalar_one()


def upcoming(**fields) -> Course:
    return make_course(starts=datetime.now() + timedelta(days=30), **fields)


# --- The links, each with what its button does ---------------------------------------------


@dataclass
class MailLink:
    #: Makes what the mail is about, queues the mail, and returns the link's path.
    setup: Callable[[object], str]
    #: Whether the link's action has happened (read from the database).
    done: Callable[[], bool]
    #: What the button's form sends besides the CSRF token.
    data: dict = field(default_factory=dict)
    #: The answer to the confirming POST.
    status: int = 200


def newsletter_confirmation(client) -> str:
    assert post_form(client, "/newsletter/", {"email": "reader@example.com"}).status_code == 200
    return mailed_path("reader@example.com", "/newsletter/confirm/")


def onsite_signup_confirmation(client) -> str:
    contact = make_user(Role.COMPANY)
    request = onsite_request(contact, RequestState.DRAFT)
    visits.open_signups(request, by=contact)
    visits.sign_up(
        request, name="연구원", email="engineer@hanbit.example.com", department="연구소", user=None
    )
    db.session.commit()
    return mailed_path("engineer@hanbit.example.com", "/visits/onsite/confirm/")


def address_confirmation(client) -> str:
    form = registration()
    assert post_form(client, "/auth/register", form).status_code == 200
    return mailed_path("new.learner@example.com", "/auth/confirm/")


def seat_decline(client) -> str:
    course = upcoming(capacity=1)
    holder, promoted = make_user(), make_user(email="promoted@example.com")
    seat = enrolment.enroll(course, holder, by=holder).enrollment
    enrolment.enroll(course, promoted, by=promoted)
    enrolment.cancel(seat, by=holder)  # the seat passes to `promoted`, who is mailed
    db.session.commit()
    return mailed_path("promoted@example.com", "/courses/seat/decline/")


def _invite(email: str) -> str:
    contact = make_user(Role.COMPANY)
    invitations.invite_employees(upcoming(), contact, [email])
    db.session.commit()
    return mailed_path(email, "/courses/invitations/")


def invitation_for_a_new_account(client) -> str:
    return _invite("new.hire@hanbit.example.com")


def invitation_for_an_account(client) -> str:
    make_user(email="kim@hanbit.example.com")
    path = _invite("kim@hanbit.example.com")
    login(client, "kim@hanbit.example.com")
    return path


def _newsletter_confirmed() -> bool:
    return scalar(select(Subscriber.confirmed_at)) is not None


def _signup_confirmed() -> bool:
    return scalar(select(Signup.confirmed_at)) is not None


def _address_confirmed() -> bool:
    return (
        scalar(select(User.email_verified_at).where(User.email == "new.learner@example.com"))
        is not None
    )


def _seat_declined() -> bool:
    status = scalar(
        select(Enrollment.status)
        .join(User, User.id == Enrollment.learner_id)
        .where(User.email == "promoted@example.com")
    )
    return status == EnrollmentStatus.DECLINED


def _invitation_accepted() -> bool:
    return scalar(select(CourseInvitation.accepted_at)) is not None


NEW_PASSWORD = "a long enough password"

LINKS = {
    "newsletter confirmation": MailLink(newsletter_confirmation, _newsletter_confirmed),
    "on-site sign-up confirmation": MailLink(onsite_signup_confirmation, _signup_confirmed),
    "e-mail address confirmation": MailLink(address_confirmation, _address_confirmed, status=302),
    "waiting-list seat decline": MailLink(seat_decline, _seat_declined, status=302),
    "invitation, new account": MailLink(
        invitation_for_a_new_account,
        _invitation_accepted,
        {
            "name": "신입사원",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "consent_privacy": "y",
        },
        status=302,
    ),
    "invitation, signed in": MailLink(invitation_for_an_account, _invitation_accepted, status=302),
}


@pytest.fixture(params=list(LINKS), ids=list(LINKS))
def link(request) -> MailLink:
    return LINKS[request.param]


def test_opening_the_link_changes_nothing_and_shows_a_button(client, link: MailLink) -> None:
    path = link.setup(client)
    before = database_state()

    page = client.get(path)
    assert client.head(path).status_code == 200

    assert page.status_code == 200
    assert FORM_WITH_BUTTON.search(page.get_data(as_text=True)), page.get_data(as_text=True)
    assert "<script" not in page.get_data(as_text=True)  # works under the CSP, without script
    assert database_state() == before
    assert not link.done()


def test_the_button_with_its_csrf_token_acts(client, link: MailLink) -> None:
    path = link.setup(client)
    client.get(path)

    response = post_form(client, path, link.data)

    assert response.status_code == link.status, response.get_data(as_text=True)[-1000:]
    assert link.done()


def test_a_post_without_the_csrf_token_is_refused(client, link: MailLink) -> None:
    path = link.setup(client)
    client.get(path)  # the session has a CSRF token; the forged form does not send it
    before = database_state()

    response = client.post(path, data=link.data)

    assert response.status_code == 400
    assert "다시 시도해 주세요" in response.get_data(as_text=True)
    assert database_state() == before
    assert not link.done()


# --- Bad links ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/newsletter/confirm/nope", 404, "유효하지 않은 확인 링크입니다."),
        ("/newsletter/unsubscribe/nope", 404, "유효하지 않은 구독 해지 링크입니다."),
        ("/visits/onsite/confirm/nope", 404, "유효하지 않은 확인 링크입니다."),
        ("/auth/confirm/nope", 410, "만료되었거나 이미 사용된 링크입니다."),
        ("/courses/seat/decline/nope", 410, "더 이상 유효하지 않은 링크입니다."),
        ("/courses/invitations/nope", 410, "만료되었거나 이미 수락한 초대입니다."),
    ],
)
def test_an_unknown_token_is_a_clear_message_on_opening_and_on_the_button(
    client, path: str, status: int, message: str
) -> None:
    before = database_state()
    for response in (client.get(path), post_form(client, path)):
        assert response.status_code == status
        assert message in response.get_data(as_text=True)
    assert database_state() == before


def test_an_expired_address_link_says_so(client) -> None:
    path = address_confirmation(client)
    db.session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    for response in (client.get(path), post_form(client, path)):
        assert response.status_code == 410
        assert "만료되었거나 이미 사용된 링크입니다." in response.get_data(as_text=True)
    assert not _address_confirmed()


def test_an_expired_invitation_says_so(client) -> None:
    path = invitation_for_a_new_account(client)
    db.session.execute(update(CourseInvitation).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    data = {
        "name": "신입사원",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "consent_privacy": "y",
    }
    for response in (client.get(path), post_form(client, path, data)):
        assert response.status_code == 410
        assert "만료되었거나 이미 수락한 초대입니다." in response.get_data(as_text=True)
    assert not _invitation_accepted()


def test_a_used_link_is_a_clear_message_the_second_time(client) -> None:
    path = seat_decline(client)
    assert post_form(client, path).status_code == 302

    for response in (client.get(path), post_form(client, path)):
        assert response.status_code == 410
        assert "더 이상 유효하지 않은 링크입니다." in response.get_data(as_text=True)


def test_a_seat_of_a_course_that_has_started_cannot_be_given_back(client) -> None:
    path = seat_decline(client)
    db.session.execute(update(Course).values(starts_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    before = database_state()

    for response in (client.get(path), post_form(client, path)):
        assert response.status_code == 410
        assert "이미 시작된 교육과정입니다." in response.get_data(as_text=True)
        assert ">자리 양보</button>" not in response.get_data(as_text=True)
    assert database_state() == before


def test_the_confirmation_link_of_an_address_that_unsubscribed_offers_no_button(client) -> None:
    """Unsubscribing ends the old confirmation link too: the page says so at once rather
    than offering a button that would answer the same."""
    path = newsletter_confirmation(client)
    db.session.execute(update(Subscriber).values(unsubscribed_at=utcnow()))
    db.session.commit()

    for response in (client.get(path), post_form(client, path)):
        assert response.status_code == 404
        assert "유효하지 않은 확인 링크입니다." in response.get_data(as_text=True)
    assert not _newsletter_confirmed()


# --- Unsubscribing: one click from the mail client, a button on the page -----------------


def confirmed_subscriber() -> Subscriber:
    subscriber = Subscriber(email="reader@example.com", token="t" * 43, confirmed_at=utcnow())
    db.session.add(subscriber)
    db.session.commit()
    return subscriber


def _unsubscribed() -> bool:
    return scalar(select(Subscriber.unsubscribed_at)) is not None


def test_opening_the_unsubscribe_link_changes_nothing_and_shows_a_button(client) -> None:
    subscriber = confirmed_subscriber()
    path = f"/newsletter/unsubscribe/{subscriber.token}"
    before = database_state()

    page = client.get(path)

    assert page.status_code == 200
    assert re.search(r'<form method="post"[^>]*>.*?<button', page.get_data(as_text=True), re.DOTALL)
    assert database_state() == before
    assert not _unsubscribed()


def test_the_one_click_unsubscribe_post_of_a_mail_client_needs_no_csrf_token(client) -> None:
    """RFC 8058: the client POSTs `List-Unsubscribe=One-Click` to the List-Unsubscribe URL,
    with no cookie and no token; the secret in the link is the proof."""
    subscriber = confirmed_subscriber()

    response = client.post(
        f"/newsletter/unsubscribe/{subscriber.token}", data={"List-Unsubscribe": "One-Click"}
    )

    assert response.status_code == 200
    assert _unsubscribed()


def test_the_unsubscribe_button_on_the_page_works_without_script(client) -> None:
    subscriber = confirmed_subscriber()
    path = f"/newsletter/unsubscribe/{subscriber.token}"
    page = client.get(path).get_data(as_text=True)
    assert "<script" not in page

    assert client.post(path, data={}).status_code == 200  # what the page's form sends
    assert _unsubscribed()


# --- Links that ask for more than a click ---------------------------------------------------


def test_opening_a_set_password_link_spends_nothing(client) -> None:
    from app.core.accounts import services as accounts

    user = make_user(email="invited@example.com")
    accounts.queue_password_mail(user, invitation=True)
    db.session.commit()
    path = mailed_path("invited@example.com", "/auth/set-password/")
    before = database_state()

    page = client.get(path)

    assert page.status_code == 200
    assert FORM_WITH_BUTTON.search(page.get_data(as_text=True))
    assert database_state() == before
    forged = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert forged.status_code == 400  # no CSRF token
    assert database_state() == before
