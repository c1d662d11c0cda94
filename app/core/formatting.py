"""Formatting of dates, money and hours for people, in the current locale; used by
templates, mail and documents alike."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _

_NOT_IN_DOCUMENTS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def document_text(value: str | None) -> str:
    """Text for XML, calendar and spreadsheet files: without the control characters that
    XML 1.0 and iCalendar cannot hold (tab and line ends stay), so that one stray character
    in a title cannot break a whole feed."""
    return _NOT_IN_DOCUMENTS.sub("", value or "")


def local_datetime(value: datetime | None, pattern: str = "yyyy-MM-dd HH:mm") -> str:
    return format_datetime(value, pattern) if value else ""


def local_date(value: datetime | None, pattern: str = "yyyy-MM-dd (E)") -> str:
    return format_datetime(value, pattern) if value else ""


def won(amount: int | None) -> str:
    if not amount:
        return _("Free")
    return f"{amount:,}" + ("원" if str(get_locale()) == "ko" else " KRW")


def hours(value: Decimal | float | None) -> str:
    if value is None:
        return ""
    number = Decimal(value).normalize()
    return f"{number:f}"
