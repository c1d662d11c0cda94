"""Every route × every role: a role the rule refuses never gets the page, whatever the route.

The routes come from `app.url_map`, so a route added later is in the matrix without anyone
remembering to list it. Arguments are filled with values that exist (the ids of a seeded
course, enrolment, request…), so an allowed role reaches the view itself; a refused role
must be sent to sign in (anonymous) or get 403, never a 2xx, and nobody ever gets a 5xx.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask

from app.core.access import rule_for
from app.core.accounts.models import Role
from tests.conftest import login, post_form
from tests.factories import make_course, make_user

ROLES = [None, Role.LEARNER, Role.COMPANY, Role.INSTRUCTOR, Role.STAFF]


def argument_value(name: str, converter: str, ids: dict[str, int]) -> object:
    if converter == "AnyConverter":
        return None  # filled from the converter's own choices
    if converter in ("IntegerConverter", "BoundedIntegerConverter"):
        return ids.get(name, 1)
    return {"year": 2027, "fmt": "csv", "kind": "post_course"}.get(name, "no-such-token")


def urls_of(app: Flask, ids: dict[str, int]) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every route, with real ids where the route takes one."""
    cases = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            values = {}
            for name, converter in rule._converters.items():
                kind = type(converter).__name__
                if kind == "AnyConverter":
                    values[name] = sorted(converter.items)[0] if hasattr(
                        converter, "items"
                    ) else next(iter(converter.regex.strip("()").split("|")))
                else:
                    values[name] = argument_value(name, kind, ids)
            url = url_for(rule.endpoint, **values)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                cases.append((rule.endpoint, method, url))
    return cases


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.value if role else "anonymous")
def test_no_role_reaches_a_route_its_rule_refuses(app: Flask, client, role: Role | None) -> None:
    course = make_course(starts=datetime.now() + timedelta(days=20))
    ids = {"course_id": course.id, "year": 2027}
    if role is not None:
        login(client, make_user(role).email)
    leaks, errors = [], []
    for endpoint, method, url in urls_of(app, ids):
        if endpoint in ("accounts.logout",):
            continue  # would end the session the rest of the matrix needs
        rule = rule_for(app, endpoint)
        allowed = rule.allows(_Person(role))
        response = client.get(url) if method == "GET" else post_form(client, url, {})
        status = response.status_code
        if status >= 500:
            errors.append((method, url, status))
        if not allowed and status < 300:
            leaks.append((method, url, status))
        if not allowed and role is None and status == 302:
            assert "/auth/login" in response.headers["Location"], url
        if not allowed and role is not None:
            assert status in (403, 404), (method, url, status)
    assert leaks == []
    assert errors == []


class _Person:
    """What an access rule needs to know of the person making the request."""

    def __init__(self, role: Role | None) -> None:
        self.role = role
        self.is_authenticated = role is not None
