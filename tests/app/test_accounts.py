"""Registration, sign-in, sign-out that really ends the session, password change, cookies."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.core.accounts.models import Company, Role, User
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from tests.conftest import csrf_token, login, post_form
from tests.factories import PASSWORD, make_company, make_user

SIGNED_IN_ONLY = "/auth/password"


def user_count() -> int:
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def registration(**changes) -> dict:
    form = {
        "email": "new.learner@example.com",
        "name": "김교육",
        "phone": "010-1234-5678",
        "department": "수출관리팀",
        "password": "a long enough password",
        "confirm": "a long enough password",
        "consent_privacy": "y",
    }
    form.update(changes)
    return form


def confirmation_link(address: str) -> str:
    body = (
        db.session.execute(select(OutboxMessage).where(OutboxMessage.to_address == address))
        .scalar_one()
        .body
    )
    match = re.search(r"http://localhost(/auth/confirm/[^\s]+)", body)
    assert match, body
    return match.group(1)


def test_a_learner_registers_confirms_the_address_and_is_signed_in(client) -> None:
    response = post_form(client, "/auth/register", registration(email=" New.Learner@Example.com "))
    assert response.status_code == 200
    assert "new.learner@example.com" in response.get_data(as_text=True)
    user = db.session.execute(select(User)).scalar_one()
    assert user.email == "new.learner@example.com"
    assert user.role == Role.LEARNER
    assert user.password_hash.startswith("scrypt:")
    assert not user.email_verified
    assert client.get(SIGNED_IN_ONLY).status_code == 302  # not signed in before confirming

    link = confirmation_link("new.learner@example.com")
    page = client.get(link)
    assert page.status_code == 200  # a page with a button: a link scanner confirms nothing
    db.session.expire_all()
    assert not db.session.get(User, user.id).email_verified
    assert post_form(client, link).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).email_verified
    assert client.get(SIGNED_IN_ONLY).status_code == 200
    assert post_form(client, link).status_code == 410  # single use


def test_registering_from_a_course_page_comes_back_to_the_course(client) -> None:
    from datetime import datetime, timedelta

    from tests.factories import make_course

    course = make_course(starts=datetime.now() + timedelta(days=20))
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    register = f"/auth/register?next=/courses/{course.id}"
    assert register in page
    assert register in client.get(f"/auth/login?next=/courses/{course.id}").get_data(as_text=True)

    assert post_form(client, register, registration(email="back@example.com")).status_code == 200
    back = post_form(client, confirmation_link("back@example.com"))
    assert back.status_code == 302 and back.headers["Location"].endswith(f"/courses/{course.id}")


def test_registering_a_taken_address_answers_the_same_and_tells_only_its_owner(app) -> None:
    make_user(email="taken@example.com")
    fresh, taken = app.test_client(), app.test_client()
    new_page = post_form(fresh, "/auth/register", registration(email="fresh@example.com"))
    taken_page = post_form(taken, "/auth/register", registration(email="TAKEN@example.com"))
    assert new_page.status_code == taken_page.status_code == 200
    normalise = lambda page, email: re.sub(  # noqa: E731
        r'name="csrf_token" value="[^"]+"', "", page.get_data(as_text=True).replace(email, "@")
    )
    assert normalise(new_page, "fresh@example.com") == normalise(taken_page, "taken@example.com")
    assert user_count() == 2
    notice = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.to_address == "taken@example.com")
    ).scalar_one()
    assert "/auth/login" in notice.body and "/auth/confirm/" not in notice.body


def test_missing_fields_and_a_short_password_are_form_errors(client) -> None:
    response = post_form(
        client,
        "/auth/register",
        registration(name="  ", email="", password="short", confirm="short"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count('class="error"') >= 3
    assert user_count() == 0


def test_mismatched_confirmation_is_a_form_error(client) -> None:
    response = post_form(client, "/auth/register", registration(confirm="something else entirely"))
    assert response.status_code == 200
    assert user_count() == 0


def test_a_wrong_password_does_not_sign_in(client) -> None:
    user = make_user()
    response = post_form(client, "/auth/login", {"email": user.email, "password": "wrong password"})
    assert response.status_code == 200
    assert client.get(SIGNED_IN_ONLY).status_code == 302


def test_a_form_without_csrf_token_is_refused(client) -> None:
    user = make_user()
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get(SIGNED_IN_ONLY).status_code == 302


def test_a_session_cookie_captured_before_logout_is_rejected_after_it(app, client) -> None:
    user = make_user()
    login(client, user.email)
    stolen = client.get_cookie("session").value
    assert client.get(SIGNED_IN_ONLY).status_code == 200

    post_form(client, "/auth/logout")

    attacker = app.test_client()
    attacker.set_cookie("session", stolen)
    response = attacker.get(SIGNED_IN_ONLY)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_changing_the_password_signs_out_other_devices_only(app, client) -> None:
    user = make_user()
    other_device = app.test_client()
    login(client, user.email)
    login(other_device, user.email)

    response = post_form(
        client,
        "/auth/password",
        {
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get(SIGNED_IN_ONLY).status_code == 200
    assert other_device.get(SIGNED_IN_ONLY).status_code == 302
    fresh = app.test_client()
    login(fresh, user.email, "a brand new passphrase")


def test_a_wrong_current_password_changes_nothing(client) -> None:
    user = make_user()
    login(client, user.email)
    token = user.session_token
    response = post_form(
        client,
        "/auth/password",
        {
            "current_password": "not it at all",
            "new_password": "another passphrase",
            "confirm": "another passphrase",
        },
    )
    assert response.status_code == 200
    db.session.refresh(user)
    assert user.session_token == token
    assert user.check_password(PASSWORD)


def test_session_cookie_is_httponly_and_lax_and_secure_over_https(app) -> None:
    user = make_user()
    plain = app.test_client()
    login(plain, user.email)
    cookie = plain.get_cookie("session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure

    https = app.test_client()
    token = csrf_token_over_https(https)
    https.post(
        "/auth/login",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
        base_url="https://localhost",
    )
    assert https.get_cookie("session", domain="localhost").secure


def csrf_token_over_https(client) -> str:
    page = client.get("/auth/login", base_url="https://localhost").get_data(as_text=True)
    from tests.conftest import CSRF_FIELD

    return CSRF_FIELD.search(page).group(1)


def test_sign_in_does_not_redirect_to_another_site(client) -> None:
    user = make_user()
    token = csrf_token(client)
    response = client.post(
        "/auth/login?next=https://evil.example/",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


def company_registration(**changes) -> dict:
    form = registration(
        email="contact@hanbit.example.com",
        company_name="한빛정밀",
        business_number="104-81-12345",
        region="gyeonggi",
        size="sme",
    )
    form.update(changes)
    return form


def test_a_company_contact_registers_the_company_which_waits_for_approval(client) -> None:
    response = post_form(client, "/auth/register/company", company_registration())
    assert response.status_code == 200
    user = db.session.execute(select(User)).scalar_one()
    assert user.role == Role.COMPANY
    assert user.company.name == "한빛정밀"
    assert user.company.business_number == "1048112345"
    assert not user.company.is_approved
    assert not user.email_verified


def test_a_company_is_registered_only_once(client) -> None:
    make_company(business_number="1048112345")
    response = post_form(client, "/auth/register/company", company_registration())
    assert response.status_code == 200
    assert user_count() == 0


def test_a_malformed_business_number_is_a_form_error_and_saves_nothing(client) -> None:
    response = post_form(
        client, "/auth/register/company", company_registration(business_number="12-34")
    )
    assert response.status_code == 200
    assert "10" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Company)).scalar_one() == 0
    assert user_count() == 0


def test_create_user_command_makes_a_staff_account(app) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Chief@Example.com",
            "--name",
            "김하늘",
            "--role",
            "staff",
            "--password",
            "a strong staff password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User)).scalar_one()
    assert (user.email, user.role) == ("chief@example.com", Role.STAFF)

    again = runner.invoke(
        args=[
            "create-user",
            "--email",
            "chief@example.com",
            "--name",
            "x",
            "--role",
            "staff",
            "--password",
            "a strong staff password",
        ]
    )
    assert again.exit_code != 0
    assert "이미" in again.output  # "already exists"
    assert user_count() == 1


def test_create_user_command_attaches_a_company_account(app) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--email",
            "hr@daeyang.example.com",
            "--name",
            "서지민",
            "--role",
            "company",
            "--password",
            "company password 1",
            "--company-number",
            "610-81-98765",
            "--company-name",
            "대양화학",
            "--size",
            "large",
            "--region",
            "ulsan",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User)).scalar_one()
    assert user.company.name == "대양화학"
