"""The edge where all input is checked before a view or service sees it.

- URL converters with bounds: a value no row could have is a 404 before any view runs.
  `<int:…>` accepts what an INTEGER column holds on every engine (PostgreSQL's is 32-bit), so
  `/courses/18446744073709551616` is "no such course", not an overflow in the database
  driver. Every other path segment (`<token>`, `<serial>`, `<code>`…) is at most 255
  characters without control characters, so a NUL from a URL never reaches a query.
- Query arguments: a control character or an overlong value is a 400 (JSON under /api/).
- Form fields: `text_problem` is the rule `app.core.forms.Form` holds every posted value
  to, so that a bad value is a message on its field.
"""

from __future__ import annotations

import re

from flask import Flask, abort, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter, UnicodeConverter

#: The largest value of a 32-bit signed INTEGER column (PostgreSQL's `integer`).
MAX_INTEGER = 2**31 - 1
MAX_SEGMENT = 255
MAX_LINE_LENGTH = 2_000
MAX_TEXT_LENGTH = 100_000
#: C0 and C1 controls, DEL and lone surrogates; tab and line ends are text in a text area.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why a piece of text can reach no feature, or None: a NUL breaks PostgreSQL, a CR/LF
    a mail header, a form feed an XLSX file."""
    if (_CONTROL_IN_TEXT if multiline else _CONTROL).search(value):
        return _("Remove the invisible control characters from this field.")
    if len(value) > (MAX_TEXT_LENGTH if multiline else MAX_LINE_LENGTH):
        return _("This text is too long.")
    return None


class BoundedIntegerConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_INTEGER)
        super().__init__(map, *args, **kwargs)


class SegmentConverter(UnicodeConverter):
    def __init__(self, map, minlength: int = 1, maxlength: int | None = None, length=None) -> None:
        super().__init__(map, minlength, maxlength, length)
        length_regex = self.regex.removeprefix("[^/]")
        if maxlength is None and length is None:
            length_regex = f"{{{int(minlength)},{MAX_SEGMENT}}}"
        self.regex = f"[^/\\x00-\\x1f\\x7f]{length_regex}"


def refuse_bad_query_arguments() -> None:
    for key, value in request.args.items(multi=True):
        if text_problem(key) or text_problem(value):
            abort(400, _("The address contains characters or a length that no page accepts."))


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: rules bind their converters when added."""
    app.url_map.converters.update(
        int=BoundedIntegerConverter, default=SegmentConverter, string=SegmentConverter
    )
    app.before_request(refuse_bad_query_arguments)
