"""File downloads: CSV, Excel, PDF and any other bytes, with a correct file name.

Every download the application offers goes through these helpers, so that whatever reads
the file (Excel, LibreOffice, pandas, a script) reads it the way a person sees it:

- a CSV opens in Excel with its Korean text intact (UTF-8 with a byte-order mark) and
  says `Content-Type: text/csv; charset=utf-8`, with one `charset` however it was asked;
- a workbook has the header on its first row and nothing above it: the title is the
  sheet's name and the document's title property, never a row of its own;
- every sheet has a name of its own (Excel's rules: at most 31 characters, none of
  `[]:*?/\\`), never the default "Sheet";
- a date is a date cell and a date and time a date-and-time cell, each with a date number
  format; an aware datetime (the database keeps UTC) is shown in the institute's time zone
  (`timeutil.to_local`), as Excel and pandas cannot hold a time zone; a CSV writes the same
  local time as `YYYY-MM-DD HH:MM`;
- a cell that a spreadsheet would run as a formula is exported as text, the same way in
  both formats: a text starting with `=`, `+`, `-`, `@`, tab or carriage return gets a
  leading `'` (OWASP "CSV injection"), and in a workbook every text is a string cell;
  numbers, dates and times are left as they are (a negative number stays a number);
- a workbook never holds a character XLSX cannot store (the C0 controls other than tab
  and line ends, see `formatting.document_text`): they are dropped, so one stray control
  character in a name cannot make the whole export fail;
- the file name survives every browser (RFC 6266): a plain-ASCII `filename=` for old
  clients and `filename*=UTF-8''…` (RFC 5987) for the Korean original.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from numbers import Number
from typing import Any
from urllib.parse import quote

from flask import Response
from werkzeug.http import dump_options_header, parse_options_header

from app.core.formatting import document_text
from app.core.timeutil import to_local

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: Number formats of date cells: what a person reads, and what tells a reader the cell is
#: a date (Excel and pandas go by the format, the cell itself holds a number).
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "hh:mm"
#: The same moments in a CSV.
CSV_DATETIME_FORMAT = "%Y-%m-%d %H:%M"
CSV_TIME_FORMAT = "%H:%M"

#: Excel's limits on a sheet name.
SHEET_NAME_LENGTH = 31
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,8}")
#: RFC 5987 attr-char beyond letters and digits: what may stay unencoded in `filename*`.
_ATTR_CHARS = "!#$&+-.^_`|~"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """`inline` or `attachment` with an ASCII fallback name and, for any other name, the
    UTF-8 original (RFC 6266 section 4.3)."""
    disposition = "inline" if inline else "attachment"
    fallback = ascii_filename(filename)
    value = f'{disposition}; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe=_ATTR_CHARS)}"
    return value


def ascii_filename(filename: str) -> str:
    """The name reduced to letters, digits, `.`, `_` and `-`: accents dropped, any other
    run of characters (Hangul, spaces, quotes, slashes) replaced by one `_`."""
    name = filename.replace("/", "_").replace("\\", "_")
    stem, dot, extension = name.rpartition(".")
    if not dot or not _EXTENSION.fullmatch(extension):
        stem, extension = name, ""

    def simplify(part: str) -> str:
        decomposed = unicodedata.normalize("NFKD", part)
        plain = "".join(char for char in decomposed if not unicodedata.combining(char))
        return _UNSAFE_ASCII.sub("_", plain).strip("._-")

    stem, extension = simplify(stem), simplify(extension)
    stem = stem or "download"
    return f"{stem}.{extension}" if extension else stem


def content_type(mimetype: str) -> str:
    """The media type with each parameter once: `text/csv; charset=utf-8; charset=utf-8`
    becomes `text/csv; charset=utf-8` (and an empty one `application/octet-stream`)."""
    media_type, options = parse_options_header(mimetype)
    return dump_options_header(media_type or "application/octet-stream", options)


def file_response(data: bytes, filename: str, mimetype: str, *, inline: bool = False) -> Response:
    """Any bytes as a download (or, with `inline`, shown in the browser where it can)."""
    response = Response(data)
    # Set as a header, not through `mimetype=`, so that nothing adds a second charset.
    response.headers["Content-Type"] = content_type(mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, inline=inline)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def pdf_response(data: bytes, filename: str, *, inline: bool = True) -> Response:
    return file_response(data, filename, PDF_TYPE, inline=inline)


def csv_response(header: Sequence[Any], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """A CSV attachment in UTF-8 with a byte-order mark, so that Excel reads Korean."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_csv_cell(value) for value in header])
    writer.writerows([_csv_cell(value) for value in row] for row in rows)
    return file_response(buffer.getvalue().encode("utf-8-sig"), filename, CSV_TYPE)


def xlsx_response(
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    filename: str,
    *,
    sheet_title: str,
    title: str | None = None,
    subject: str | None = None,
    widths: Sequence[float] | None = None,
) -> Response:
    """An Excel workbook of one sheet: the header on the first row, then the rows.

    `sheet_title` names the sheet (see `sheet_name`); `title` (by default the sheet's
    name) and `subject` go into the document's properties, where a reader finds what
    the file is without a title row in the way of the header. `widths` sets the column
    widths, in characters, from column A.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_name(sheet_title, fallback=filename.rpartition(".")[0] or filename)
    book.properties.title = document_text(title) or sheet.title
    if subject:
        book.properties.subject = document_text(subject)
    book.properties.creator = "CourseDesk"

    bold = Font(bold=True)
    for number, row in enumerate((header, *rows), start=1):
        cells = [_xlsx_cell(value) for value in row]
        # safe_cell leaves no text starting with "=", so openpyxl types no cell a formula.
        sheet.append([value for value, _format in cells])
        for column, (_value, number_format) in enumerate(cells, start=1):
            if number_format or number == 1:
                cell = sheet.cell(row=number, column=column)
                if number_format:
                    cell.number_format = number_format
                if number == 1:
                    cell.font = bold
    sheet.freeze_panes = "A2"  # the header stays in view; it is still just row 1
    for number, width in enumerate(widths or (), start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return file_response(buffer.getvalue(), filename, XLSX_TYPE)


def sheet_name(title: str, *, fallback: str = "") -> str:
    """`title` as Excel accepts a sheet name: without the characters Excel refuses
    (`[]:*?/\\` become spaces, control characters go), not starting or ending with `'`,
    at most 31 characters; `fallback` (then "Data") if nothing is left."""
    for candidate in (title, fallback, "Data"):
        name = _NOT_IN_SHEET_NAMES.sub(" ", document_text(str(candidate)))
        name = _cut_utf16(name.strip().strip("'").strip(), SHEET_NAME_LENGTH)
        name = name.strip().strip("'").strip()
        if name and name.casefold() != "history":  # Excel reserves "History"
            return name
    raise AssertionError("unreachable: 'Data' is a valid sheet name")


def _cut_utf16(text: str, length: int) -> str:
    """`text` cut to `length` UTF-16 code units, the unit Excel counts in."""
    while len(text.encode("utf-16-le")) // 2 > length:
        text = text[:-1]
    return text


def _plain(value: Any) -> Any:
    """Numbers, dates, times and empty cells as they are; anything else (a lazily
    translated header, an enum) as its text."""
    if value is None or isinstance(value, Number | date | time):
        return value
    return str(value)


def _local(value: Any) -> Any:
    """An aware datetime as the naive wall-clock time of the institute's zone (a workbook
    cannot hold a zone); a naive one is taken to be local already, as
    `timeutil.local_to_utc` does. A time of day has no date to convert with: it keeps its
    clock reading."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return to_local(value).replace(tzinfo=None)
    if isinstance(value, time) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _xlsx_cell(value: Any) -> tuple[Any, str | None]:
    """The value a workbook cell holds, and its number format where it is a date."""
    value = _local(_plain(value))
    if isinstance(value, datetime):  # before date: a datetime is a date
        return value, DATETIME_FORMAT
    if isinstance(value, date):
        return value, DATE_FORMAT
    if isinstance(value, time):
        return value, TIME_FORMAT
    if isinstance(value, str):
        value = document_text(value)  # before the formula check: "\x01=…"
        if not value:
            return None, None  # an empty cell, not an empty text
    return safe_cell(value), None


def _csv_cell(value: Any) -> Any:
    value = _local(_plain(value))
    if isinstance(value, datetime):
        return value.strftime(CSV_DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime(CSV_TIME_FORMAT)
    return safe_cell(value)


def safe_cell(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, prefixed with `'` so it
    stays text (OWASP); numbers, dates, times and empty cells are left as they are."""
    value = _plain(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
