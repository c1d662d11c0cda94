"""Who may use which route: one rule per endpoint, checked before every request.

Each view declares its rule with one of the decorators below. A view without a rule is
refused (fail closed), and `tests/app/test_access_rules.py` walks `app.url_map` so that a
forgotten rule fails the build before it can reach anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request
from flask_login import current_user

from app.core.accounts.models import Role

ATTRIBUTE = "access_rule"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class AccessRule:
    description: str
    login_required: bool
    roles: frozenset[Role] = frozenset()

    def allows(self, user: Any) -> bool:
        if not self.login_required:
            return True
        if not user.is_authenticated:
            return False
        return not self.roles or user.role in self.roles


PUBLIC = AccessRule("anyone", login_required=False)
SIGNED_IN = AccessRule("any signed-in user", login_required=True)


def _declare(rule: AccessRule) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        setattr(view, ATTRIBUTE, rule)
        return view

    return decorator


public = _declare(PUBLIC)
signed_in = _declare(SIGNED_IN)


def roles(*allowed: Role) -> Callable[[F], F]:
    """Only signed-in users with one of these roles."""
    names = ", ".join(sorted(role.value for role in allowed))
    return _declare(AccessRule(f"roles: {names}", login_required=True, roles=frozenset(allowed)))


staff_only = roles(Role.STAFF)


def rule_for(app: Flask, endpoint: str) -> AccessRule | None:
    registered = app.extensions.get("access_rules", {})
    if endpoint in registered:
        return registered[endpoint]
    view = app.view_functions.get(endpoint)
    return getattr(view, ATTRIBUTE, None)


def init_app(app: Flask) -> None:
    # Flask's own static route is a bound method and cannot carry an attribute.
    app.extensions["access_rules"] = {"static": PUBLIC}
    app.before_request(enforce_access_rule)


def enforce_access_rule() -> Any:
    if request.endpoint is None:  # no route matched: let the 404/405 through
        return None
    rule = rule_for(current_app, request.endpoint)
    if rule is None:
        abort(403)
    if rule.allows(current_user):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    abort(403)
