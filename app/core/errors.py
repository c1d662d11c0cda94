"""Error pages: a clear page (or JSON under /api/) with the right 4xx, never a raw 500."""

from __future__ import annotations

from flask import Flask, g, has_request_context, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from app.core.extensions import db

#: Set on `g` when an operation of the current request was refused (see DomainError).
REFUSED = "action_refused"


class DomainError(Exception):
    """A refused operation, with a message for the person and, if any, the form field.

    A refusal marks the request, so that its transaction is rolled back even when the view
    catches the error and answers with a form or a redirect: nothing a refused operation
    flushed before it gave up can reach the database. A larger action that may go on after
    one of its steps is refused runs that step in `unit_of_work.step()`.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if has_request_context():
            setattr(g, REFUSED, True)


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Please check what you entered."),
        401: _("Please sign in to continue."),
        403: _("You do not have permission to open this page."),
        404: _("The page you are looking for does not exist."),
        405: _("This action is not allowed here."),
        413: _("The file is too large."),
        429: _("Too many requests. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Please try again later."),
        503: _("The service is temporarily unavailable."),
    }


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def render_error(code: int, message: str | None = None):
    message = message or _messages().get(code, _messages()[500])
    if wants_json():
        return jsonify({"error": message, "status": code}), code
    return render_template("errors/error.html", code=code, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400, _("Your form expired or was sent from elsewhere. Please try again.")
        )

    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError):
        # Raised before routing, so no URL can be built for a page: answer in plain text.
        return "Bad Request: unknown host.", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        # A description passed to abort() is a message for the person; the class default is not.
        detail = error.description if error.description != type(error).description else None
        return render_error(code, detail)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s", request.path)
        return render_error(500)
