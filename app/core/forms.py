"""Form pieces shared by every area."""

from __future__ import annotations

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import StopValidation


def strip_filter(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class NotBlank:
    """Like DataRequired, with a translated message and whitespace treated as empty."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            field.errors[:] = []
            raise StopValidation(str(self.message or _l("This field is required.")))


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""


def show_domain_error(form, error) -> None:
    """Put a refused operation's message on its field, or flash it when it names none."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


def flash_form_errors(form) -> None:
    """For one-line forms posted from a list page: say what was wrong on the next page."""
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")
