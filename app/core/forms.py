"""Form pieces shared by every area, and the one edge where every posted value is checked
(`app.core.edge` checks URLs and query arguments).

Every form of the app is a `Form`. Before a field's own validators run, its value is held
against bounds that no feature should have to remember: no control characters (a NUL
breaks PostgreSQL, a CR/LF a mail header, a form feed an XLSX file), no lone surrogates, a
length no page needs, whole numbers that fit an INTEGER column, finite decimals, and dates
between 2000 and 2100. A value outside them is a message on its field, never a 500.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, TextAreaField
from wtforms import FieldList as _FieldList
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation

from app.core.edge import MAX_INTEGER, text_problem

MAX_DECIMAL = Decimal(10) ** 9
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def edge_problem(field, value: object) -> str | None:
    """Why a value can reach no feature, or None."""
    if isinstance(value, str):
        return text_problem(value, multiline=isinstance(field, TextAreaField))
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and isinstance(field, IntegerField | DecimalField):
        return None if abs(value) <= MAX_INTEGER else str(_l("This number is too large."))
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(_l("Enter a number."))
        return None if abs(value) < MAX_DECIMAL else str(_l("This number is too large."))
    if isinstance(value, date | datetime) and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        return str(
            _l(
                "Choose a date between %(first)d and %(last)d.",
                first=EARLIEST_YEAR,
                last=LATEST_YEAR,
            )
        )
    return None


class FieldList(_FieldList):
    """WTForms' FieldList with a bounded number of rows, reading only ASCII row numbers
    (its own `isdigit` takes `questions-²-text` for a row and fails on `int("²")`)."""

    def __init__(self, *args, max_entries: int = 200, **kwargs) -> None:
        super().__init__(*args, max_entries=max_entries, **kwargs)

    def _extract_indices(self, prefix, formdata):
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                index = key[offset:].split(self._field_separator, 1)[0]
                if index.isascii() and index.isdigit() and len(index) < 6:
                    yield int(index)


class EdgeCheck:
    """The first validator of every field (see `Form`): stops the chain on a bad value."""

    def __call__(self, form, field) -> None:
        # The text as posted, and what the field made of it when that is not text (a
        # number, a date); text data is the posted text filtered, so it is not checked twice.
        data = field.data if isinstance(field.data, list | tuple) else [field.data]
        raw = [v for v in (field.raw_data or []) if isinstance(v, str)]
        for value in [*raw, *(v for v in data if not isinstance(v, str))]:
            problem = edge_problem(field, value)
            if problem:
                field.errors[:] = []
                raise StopValidation(problem)


class EdgeMeta(DefaultMeta):
    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        field.validators = [EdgeCheck(), *field.validators]
        return field


class Form(FlaskForm):
    """The base of every form: `FlaskForm` (CSRF, file data) with the edge checks."""

    class Meta(EdgeMeta):
        pass


class SubForm(Form):
    """A form inside another (`FormField`): the outer form carries the CSRF token."""

    class Meta(EdgeMeta):
        csrf = False


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


class ConfirmForm(Form):
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
