"""What every response carries and every session obeys, whatever the page.

- Security headers: a Content-Security-Policy that allows no inline script or style and
  no framing, `nosniff`, `Referrer-Policy: same-origin`, and HSTS on HTTPS.
- Personal pages are never stored by a browser or a proxy: any response to a signed-in
  person, and any page reached through a personal link (a token in the URL), says
  `Cache-Control: no-store` unless the view chose its own caching.
- A session ends two ways: after `PERMANENT_SESSION_LIFETIME` without a request (the
  cookie slides) and, however active, `SESSION_ABSOLUTE_LIFETIME` after sign-in.
- Behind `TRUSTED_PROXIES` reverse proxies the client's address and scheme are read
  from X-Forwarded-For and X-Forwarded-Proto, so the rate limits count people rather
  than the proxy, and the session cookie is Secure when the proxy spoke HTTPS.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, Response, request, session
from flask_login import current_user, login_user, logout_user
from werkzeug.middleware.proxy_fix import ProxyFix

from app.core.links import trusted_hosts
from app.core.timeutil import utcnow

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000; includeSubDomains"

#: The session key holding when the person signed in (ISO 8601, UTC).
SIGNED_IN_AT = "signed_in_at"

#: URL arguments that make a page personal: whoever holds the link is the person.
PERSONAL_LINK_ARGUMENTS = frozenset({"token", "serial"})


def init_app(app: Flask) -> None:
    if app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = trusted_hosts(app)
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.before_request(_end_expired_session)
    app.after_request(_add_security_headers)


def start_session(user: object) -> None:
    """Sign the person in on a fresh session whose absolute clock starts now."""
    session.clear()
    session.permanent = True
    login_user(user)
    session[SIGNED_IN_AT] = utcnow().isoformat()


def _end_expired_session() -> None:
    if not current_user.is_authenticated:
        return
    from flask import current_app

    started = session.get(SIGNED_IN_AT)
    limit = current_app.config["SESSION_ABSOLUTE_LIFETIME"]
    try:
        expired = started is None or utcnow() - datetime.fromisoformat(started) > limit
    except (TypeError, ValueError):
        expired = True
    if expired:
        logout_user()
        session.clear()


def _add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if _is_personal() and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
    return response


def _is_personal() -> bool:
    if current_user and current_user.is_authenticated:
        return True
    arguments = request.view_args or {}
    return bool(PERSONAL_LINK_ARGUMENTS & arguments.keys()) or request.path.startswith("/me/")
