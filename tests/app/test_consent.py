"""Consents (standard 10): given on the forms that create an account, recorded with the
version of their text, shown on /me, withdrawn and given again there, exported, and kept
as proof (without identity) when the person has their data deleted."""

from __future__ import annotations

import itertools
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.core.accounts import consent
from app.core.accounts.models import Company, Consent, ConsentSource, Role, User
from app.core.accounts.services import find_user
from app.core.audit import AuditEntry
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from app.core.timeutil import utcnow
from courses.models import Subscriber
from tests.app.test_accounts import company_registration, registration
from tests.conftest import login, post_form
from tests.courses.test_invitations import invitation_link, invite, upcoming
from tests.factories import PASSWORD, make_user


def count(model, *conditions) -> int:
    return db.session.execute(
        select(func.count()).select_from(model).where(*conditions)
    ).scalar_one()


def consents(user: User) -> list[tuple[str, str, ConsentSource, bool]]:
    return sorted(
        (c.item, c.version, c.source, c.withdrawn_at is None) for c in consent.consents_of(user)
    )


def mail_kinds(address: str) -> list[str]:
    return sorted(
        db.session.execute(
            select(OutboxMessage.kind).where(OutboxMessage.to_address == address)
        ).scalars()
    )


def subscriber(address: str) -> Subscriber | None:
    db.session.expire_all()
    return db.session.execute(
        select(Subscriber).where(Subscriber.email == address)
    ).scalar_one_or_none()


VERSION = consent.CONSENT_ITEMS[consent.PRIVACY].version
NEWSLETTER_VERSION = consent.CONSENT_ITEMS[consent.NEWSLETTER].version


# --- Registration ------------------------------------------------------------------------


def test_registration_without_the_required_consent_is_refused_on_the_form(client) -> None:
    form = registration()
    del form["consent_privacy"]
    response = post_form(client, "/auth/register", form)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "필수 항목에 동의해 주세요." in page
    assert 'name="consent_privacy"' in page
    assert count(User) == 0 and count(Consent) == 0 and count(OutboxMessage) == 0


def test_the_registration_page_states_purposes_items_and_retention(client) -> None:
    page = client.get("/auth/register").get_data(as_text=True)
    assert "개인정보 수집·이용 동의 (필수)" in page
    assert "뉴스레터 수신 동의 (선택)" in page
    for heading in ("수집·이용 목적", "수집 항목", "보유 기간"):
        assert heading in page
    assert VERSION in page


def test_registration_records_the_required_consent_and_nothing_optional(client) -> None:
    response = post_form(client, "/auth/register", registration())

    assert response.status_code == 200
    user = find_user("new.learner@example.com")
    assert consents(user) == [("privacy", VERSION, ConsentSource.REGISTRATION, True)]
    assert subscriber("new.learner@example.com") is None
    assert mail_kinds("new.learner@example.com") == ["email_confirm"]


def test_the_newsletter_box_records_its_consent_and_starts_the_double_opt_in(client) -> None:
    post_form(client, "/auth/register", registration(consent_newsletter="y"))

    user = find_user("new.learner@example.com")
    assert consents(user) == [
        ("newsletter", NEWSLETTER_VERSION, ConsentSource.REGISTRATION, True),
        ("privacy", VERSION, ConsentSource.REGISTRATION, True),
    ]
    pending = subscriber("new.learner@example.com")
    assert pending is not None and pending.confirmed_at is None  # the address confirms it
    assert mail_kinds("new.learner@example.com") == ["email_confirm", "newsletter_confirm"]


def test_a_taken_address_records_no_consent_and_subscribes_nothing(client) -> None:
    make_user(email="taken@example.com")
    post_form(
        client, "/auth/register", registration(email="taken@example.com", consent_newsletter="y")
    )

    assert count(Consent) == 0
    assert subscriber("taken@example.com") is None


def test_a_company_registration_needs_the_required_consent_too(client) -> None:
    form = company_registration()
    del form["consent_privacy"]
    assert post_form(client, "/auth/register/company", form).status_code == 200
    assert count(User) == 0 and count(Company) == 0

    post_form(client, "/auth/register/company", company_registration())
    contact = find_user("contact@hanbit.example.com")
    assert consents(contact) == [("privacy", VERSION, ConsentSource.REGISTRATION, True)]


def test_accounts_made_by_staff_or_the_command_line_have_no_consent(app) -> None:
    from app.core.accounts.services import create_user

    create_user(email="made@example.com", name="김생성", password="a long enough password")
    db.session.commit()
    assert count(Consent) == 0


_emails = itertools.count(1)
_box = st.one_of(
    st.none(), st.sampled_from(["y", "on", "1", "true", "false", ""]), st.text(max_size=12)
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(privacy=_box, newsletter=_box)
def test_whatever_the_boxes_post_only_ticked_items_are_recorded(
    client, privacy, newsletter
) -> None:
    email = f"fuzz{next(_emails)}@example.com"
    form = registration(email=email)
    del form["consent_privacy"]
    for name, value in (("consent_privacy", privacy), ("consent_newsletter", newsletter)):
        if value is not None:
            form[name] = value

    response = post_form(client, "/auth/register", form)

    assert response.status_code == 200
    user = find_user(email)
    ticked = {
        key
        for key, value in (("privacy", privacy), ("newsletter", newsletter))
        if value not in (None, "", "false")
    }
    if user is None:
        # Refused: the required box was not ticked, or a box's value was not acceptable text.
        assert "privacy" not in ticked or 'class="error"' in response.get_data(as_text=True)
    else:
        assert "privacy" in ticked
        assert {c.item for c in consent.consents_of(user)} == ticked
        assert (subscriber(email) is not None) == ("newsletter" in ticked)


# --- /me ---------------------------------------------------------------------------------


def _subscribed_learner() -> User:
    learner = make_user()
    consent.grant(learner, consent.PRIVACY, source=ConsentSource.REGISTRATION)
    consent.grant(learner, consent.NEWSLETTER, source=ConsentSource.REGISTRATION)
    db.session.add(Subscriber(email=learner.email, token="t" * 40, confirmed_at=utcnow()))
    db.session.commit()
    return learner


def test_my_page_shows_each_consent_with_its_version_and_dates(client) -> None:
    learner = _subscribed_learner()
    login(client, learner.email, PASSWORD)

    page = client.get("/me/").get_data(as_text=True)
    section = page[page.index('id="consents"') :]
    assert "개인정보 수집·이용 동의 (필수)" in section and "뉴스레터 수신 동의 (선택)" in section
    assert VERSION in section
    assert "/me/consents/newsletter/withdraw" in section
    assert "/me/consents/privacy/" not in section  # the required one: deletion instead
    assert "/me/delete" in section


def test_withdrawing_the_newsletter_consent_unsubscribes_and_is_audited(client) -> None:
    learner = _subscribed_learner()
    login(client, learner.email, PASSWORD)

    response = post_form(client, "/me/consents/newsletter/withdraw")

    assert response.status_code == 302
    db.session.expire_all()
    assert consents(learner) == [
        ("newsletter", NEWSLETTER_VERSION, ConsentSource.REGISTRATION, False),
        ("privacy", VERSION, ConsentSource.REGISTRATION, True),
    ]
    assert subscriber(learner.email).unsubscribed_at is not None
    actions = db.session.execute(
        select(AuditEntry.action, AuditEntry.actor_id).where(AuditEntry.action.like("consent.%"))
    ).all()
    assert actions == [("consent.withdraw", learner.id)]


def test_granting_again_adds_a_new_record_and_subscribes_again(client) -> None:
    learner = _subscribed_learner()
    login(client, learner.email, PASSWORD)
    post_form(client, "/me/consents/newsletter/withdraw")

    response = post_form(client, "/me/consents/newsletter/grant")

    assert response.status_code == 302
    db.session.expire_all()
    rows = [(c.item, c.source, c.withdrawn_at is None) for c in consent.consents_of(learner)]
    assert sorted(rows) == sorted(
        [
            ("newsletter", ConsentSource.MY_PAGE, True),
            ("newsletter", ConsentSource.REGISTRATION, False),
            ("privacy", ConsentSource.REGISTRATION, True),
        ]
    )
    again = subscriber(learner.email)
    assert again.unsubscribed_at is None and again.confirmed_at is None  # double opt-in
    assert "newsletter_confirm" in mail_kinds(learner.email)
    assert count(AuditEntry, AuditEntry.action == "consent.grant") == 1


def test_granting_twice_keeps_one_standing_consent(client) -> None:
    learner = make_user()
    login(client, learner.email, PASSWORD)
    post_form(client, "/me/consents/newsletter/grant")
    post_form(client, "/me/consents/newsletter/grant")

    assert count(Consent, Consent.user_id == learner.id, Consent.withdrawn_at.is_(None)) == 1


def test_the_required_consent_cannot_be_withdrawn_on_my_page(client) -> None:
    learner = _subscribed_learner()
    login(client, learner.email, PASSWORD)

    assert post_form(client, "/me/consents/privacy/withdraw").status_code == 404
    assert post_form(client, "/me/consents/anything/withdraw").status_code == 404
    assert consent.has_consent(learner, consent.PRIVACY)


def test_a_withdrawal_without_the_csrf_token_changes_nothing(client) -> None:
    learner = _subscribed_learner()
    login(client, learner.email, PASSWORD)

    response = client.post("/me/consents/newsletter/withdraw")

    assert response.status_code in (302, 400)
    db.session.expire_all()
    assert consent.has_consent(learner, consent.NEWSLETTER)


def test_unsubscribing_from_a_mail_link_withdraws_the_consent(client) -> None:
    learner = _subscribed_learner()

    response = post_form(client, "/newsletter/unsubscribe/" + "t" * 40)

    assert response.status_code == 200
    db.session.expire_all()
    assert not consent.has_consent(learner, consent.NEWSLETTER)
    assert consent.has_consent(learner, consent.PRIVACY)


# --- Export and deletion -----------------------------------------------------------------


def test_the_data_export_lists_every_consent(client) -> None:
    learner = _subscribed_learner()
    consent.withdraw(learner, consent.NEWSLETTER)
    db.session.commit()
    login(client, learner.email, PASSWORD)

    data = json.loads(client.get("/me/data.json").get_data(as_text=True))

    exported = sorted(
        (c["item"], c["version"], c["withdrawn_at"] is None) for c in data["consents"]
    )
    assert exported == [("newsletter", NEWSLETTER_VERSION, False), ("privacy", VERSION, True)]
    assert all(re.match(r"\d{4}-\d\d-\d\dT", c["granted_at"]) for c in data["consents"])


def test_deletion_keeps_the_consent_history_ended_and_without_identity(client) -> None:
    learner = _subscribed_learner()
    email = learner.email
    login(client, email, PASSWORD)

    assert post_form(client, "/me/delete", {"password": PASSWORD}).status_code == 302

    db.session.expire_all()
    rows = db.session.execute(select(Consent).where(Consent.user_id == learner.id)).scalars().all()
    assert sorted(row.item for row in rows) == ["newsletter", "privacy"]
    assert all(row.withdrawn_at is not None for row in rows)
    account = db.session.get(User, learner.id)
    assert account.email != email and not account.active


# --- Invitations -------------------------------------------------------------------------


def test_an_invitation_accepted_with_a_new_account_records_its_consents(client) -> None:
    contact = make_user(Role.COMPANY)
    course = upcoming()
    login(client, contact.email)
    invite(client, course, "new.hire@hanbit.example.com")
    post_form(client, "/auth/logout")
    link = invitation_link("new.hire@hanbit.example.com")
    form = {"name": "신입사원", "password": "a long new password", "confirm": "a long new password"}

    refused = post_form(client, link, form)
    assert refused.status_code == 200 and "필수 항목에 동의해 주세요." in refused.get_data(
        as_text=True
    )
    assert find_user("new.hire@hanbit.example.com") is None

    post_form(client, link, {**form, "consent_privacy": "y", "consent_newsletter": "y"})
    learner = find_user("new.hire@hanbit.example.com")
    assert consents(learner) == [
        ("newsletter", NEWSLETTER_VERSION, ConsentSource.INVITATION, True),
        ("privacy", VERSION, ConsentSource.INVITATION, True),
    ]
    assert subscriber("new.hire@hanbit.example.com") is not None


def test_an_account_made_for_a_person_asks_their_consent_with_the_password(client) -> None:
    from app.core.accounts import services
    from app.core.accounts.models import AccountToken, TokenPurpose

    participant = make_user(email="onsite@example.com")
    services.queue_password_mail(participant, invitation=True)
    db.session.commit()
    body = db.session.execute(
        select(OutboxMessage.body).where(OutboxMessage.to_address == "onsite@example.com")
    ).scalar_one()
    path = re.search(r"http://localhost(/auth/set-password/\S+)", body).group(1)
    form = {"password": "a long new password", "confirm": "a long new password"}

    assert "개인정보 수집·이용 동의 (필수)" in client.get(path).get_data(as_text=True)
    refused = post_form(client, path, form)
    assert refused.status_code == 200 and "필수 항목에 동의해 주세요." in refused.get_data(
        as_text=True
    )
    assert post_form(client, path, {**form, "consent_privacy": "y"}).status_code == 302

    assert consents(participant) == [("privacy", VERSION, ConsentSource.INVITATION, True)]
    assert db.session.execute(select(AccountToken.purpose)).scalar_one() == TokenPurpose.INVITATION


def test_a_password_reset_asks_for_no_consent(client) -> None:
    from app.core.accounts import services

    user = make_user(email="reset@example.com")
    services.queue_password_mail(user, invitation=False)
    db.session.commit()
    body = db.session.execute(
        select(OutboxMessage.body).where(OutboxMessage.to_address == "reset@example.com")
    ).scalar_one()
    path = re.search(r"http://localhost(/auth/set-password/\S+)", body).group(1)

    assert "consent_privacy" not in client.get(path).get_data(as_text=True)
    form = {"password": "a long new password", "confirm": "a long new password"}
    assert post_form(client, path, form).status_code == 302
    assert count(Consent) == 0
