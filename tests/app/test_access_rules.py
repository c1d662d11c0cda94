"""Every route declares who may use it; a route without a rule is refused."""

from __future__ import annotations

import pytest
from flask import Flask

from app import create_app
from app.core.access import rule_for
from app.core.accounts.models import Role
from tests.conftest import login
from tests.factories import make_user


def test_every_endpoint_declares_an_access_rule(app: Flask) -> None:
    missing = sorted(
        {rule.endpoint for rule in app.url_map.iter_rules() if rule_for(app, rule.endpoint) is None}
    )
    assert missing == [], f"endpoints without an access rule: {missing}"


def test_a_route_without_a_rule_is_refused(database_url: str) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})

    @app.route("/forgotten")
    def forgotten():
        return "secret"

    response = app.test_client().get("/forgotten")
    assert response.status_code == 403
    assert b"secret" not in response.data


STAFF_PAGES = ["/staff/", "/courses/manage", "/courses/new"]


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_send_anonymous_visitors_to_sign_in(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.LEARNER, Role.COMPANY, Role.INSTRUCTOR])
@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_are_forbidden_to_other_roles(client, role: Role, url: str) -> None:
    user = make_user(role)
    login(client, user.email)
    assert client.get(url).status_code == 403


def test_staff_reach_the_staff_pages(client) -> None:
    login(client, make_user(Role.STAFF).email)
    for url in STAFF_PAGES:
        assert client.get(url).status_code == 200, url
