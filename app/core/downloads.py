"""File downloads: CSV, Excel, PDF and any other bytes, with a correct file name.

Every download the application offers goes through these helpers, so that

- a CSV opens in Excel with its Korean text intact (UTF-8 with a byte-order mark) and
  says `Content-Type: text/csv; charset=utf-8` exactly once;
- a spreadsheet has its header on the first row;
- a cell that a spreadsheet would run as a formula is exported as text, the same way in
  both formats: a text starting with `=`, `+`, `-`, `@`, tab or carriage return gets a
  leading `'` (OWASP "CSV injection"), and in a workbook every text is a string cell;
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
from datetime import date, time
from numbers import Number
from typing import Any
from urllib.parse import quote

from flask import Response

from app.core.formatting import document_text

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

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


def file_response(data: bytes, filename: str, mimetype: str, *, inline: bool = False) -> Response:
    """Any bytes as a download (or, with `inline`, shown in the browser where it can)."""
    response = Response(data, content_type=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, inline=inline)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def pdf_response(data: bytes, filename: str, *, inline: bool = True) -> Response:
    return file_response(data, filename, PDF_TYPE, inline=inline)


def csv_response(header: Sequence[Any], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """A CSV attachment in UTF-8 with a byte-order mark, so that Excel reads Korean."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(value) for value in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return file_response(buffer.getvalue().encode("utf-8-sig"), filename, CSV_TYPE)


def xlsx_response(
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    filename: str,
    *,
    sheet_title: str | None = None,
    widths: Sequence[float] | None = None,
) -> Response:
    """An Excel workbook of one sheet: the header on the first row, then the rows.

    `sheet_title` names the sheet (cut to Excel's 31 characters, without the characters
    Excel refuses); `widths` sets the column widths, in characters, from column A.
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    if sheet_title:
        sheet.title = re.sub(r"[\[\]:*?/\\]", " ", sheet_title).strip()[:31] or "Sheet"
    for row in (header, *rows):
        # safe_cell leaves no text starting with "=", so openpyxl types no cell a formula.
        sheet.append([_xlsx_cell(value) for value in row])
    for number, width in enumerate(widths or (), start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return file_response(buffer.getvalue(), filename, XLSX_TYPE)


def _plain(value: Any) -> Any:
    """Numbers, dates, times and empty cells as they are; anything else (a lazily
    translated header, an enum) as its text."""
    if value is None or isinstance(value, Number | date | time):
        return value
    return str(value)


def _xlsx_cell(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, str):
        value = document_text(value)  # before the formula check: "\x01=…"
    return safe_cell(value)


def safe_cell(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, prefixed with `'` so it
    stays text (OWASP); numbers, dates, times and empty cells are left as they are."""
    value = _plain(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
