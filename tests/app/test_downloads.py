"""Downloads: Korean file names that survive every browser, CSV that Excel reads, no formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.core.downloads import (
    ascii_filename,
    content_disposition,
    content_type,
    csv_response,
    file_response,
    pdf_response,
    sheet_name,
    xlsx_response,
)


def workbook(response):
    return load_workbook(io.BytesIO(response.data))


def test_a_korean_file_name_has_an_ascii_fallback_and_the_utf8_original() -> None:
    assert content_disposition("수료증-홍길동.pdf", inline=True) == (
        "inline; filename=\"download.pdf\"; filename*=UTF-8''"
        "%EC%88%98%EB%A3%8C%EC%A6%9D-%ED%99%8D%EA%B8%B8%EB%8F%99.pdf"
    )
    assert content_disposition("roster-12.csv") == 'attachment; filename="roster-12.csv"'


def test_the_fallback_name_cannot_break_the_header_or_leave_the_folder() -> None:
    assert ascii_filename('Café "a"; b.pdf') == "Cafe_a_b.pdf"
    assert ascii_filename("../../etc/passwd") == "etc_passwd"
    assert ascii_filename("전략물자 2027.xlsx") == "2027.xlsx"
    assert ascii_filename("한글") == "download"
    header = content_disposition('a"b\r\nSet-Cookie: x.pdf')
    assert "\r" not in header and "\n" not in header and header.count('"') == 2


def test_csv_is_utf8_with_a_bom_and_one_charset(app) -> None:
    response = csv_response(["이름", "점수"], [["김수출", 95]], "결과.csv")
    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert response.data.decode("utf-8-sig").splitlines() == ["이름,점수", "김수출,95"]
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="download.csv"; '
    )


def test_spreadsheet_cells_never_run_as_formulas(app) -> None:
    rows = [['=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)", -3, None]]
    csv_text = csv_response(["a"], rows, "x.csv").data.decode("utf-8-sig")
    assert csv_text.splitlines()[1] == '"\'=HYPERLINK(""http://evil"")",\'+1,\'-2,\'@SUM(A1),-3,'
    book = workbook(xlsx_response(["a"], rows, "x.xlsx", sheet_title="목록"))
    cells = book.active[2]
    # The same text as in the CSV: a spreadsheet that re-reads the cell on edit, or a
    # script that copies values into another sheet, still gets no formula.
    assert [cell.value for cell in cells] == [
        '\'=HYPERLINK("http://evil")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        -3,
    ]
    assert [cell.data_type for cell in cells] == ["s", "s", "s", "s", "n"]


def test_a_control_character_cannot_break_a_workbook_or_hide_a_formula(app) -> None:
    rows = [["김\x00수\x07출\x1b", "\x01=SUM(A1)", "줄\n바꿈\t탭"]]
    book = workbook(xlsx_response(["a", "b", "c"], rows, "x.xlsx", sheet_title="목록"))
    assert [cell.value for cell in book.active[2]] == ["김수출", "'=SUM(A1)", "줄\n바꿈\t탭"]


def test_xlsx_puts_the_header_first(app) -> None:
    response = xlsx_response(
        ["번호", "이름"], [[1, "김수출"]], "명단.xlsx", sheet_title="명단: 3월"
    )
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["번호", "이름"],
        [1, "김수출"],
    ]
    assert sheet.title == "명단  3월"
    assert response.mimetype.endswith("spreadsheetml.sheet")


def test_the_title_goes_into_the_properties_not_above_the_header(app) -> None:
    book = workbook(
        xlsx_response(
            ["번호"],
            [[1]],
            "x.xlsx",
            sheet_title="명단",
            title="수출통제 (2027-03-10)",
            subject="s",
        )
    )
    assert book.properties.title == "수출통제 (2027-03-10)"
    assert book.properties.subject == "s"
    assert book.active.title == "명단" and book.active["A1"].value == "번호"
    assert book.active.freeze_panes == "A2" and book.active["A1"].font.bold
    # Without a title of its own, the document is called what its sheet is called.
    assert workbook(xlsx_response(["a"], [], "x.xlsx", sheet_title="응답")).properties.title == (
        "응답"
    )


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("명단: 3월", "명단  3월"),
        ("a[b]c*d?e/f\\g", "a b c d e f g"),
        ("'인용'", "인용"),
        ("가" * 40, "가" * 31),
        ("\x01제목\x7f", "제목"),
        ("???", "roster-12"),  # nothing left: the file's name
        ("History", "roster-12"),  # reserved by Excel
    ],
)
def test_a_sheet_name_follows_excels_rules(title: str, expected: str) -> None:
    assert sheet_name(title, fallback="roster-12") == expected


def test_a_sheet_is_never_left_with_the_default_name(app) -> None:
    assert sheet_name("", fallback="") == "Data"
    sheet = workbook(xlsx_response(["a"], [], "명단.xlsx", sheet_title="*")).active
    assert sheet.title == "명단"


def test_dates_and_times_are_date_cells_in_local_time(app) -> None:
    utc = datetime(2027, 3, 9, 23, 30, tzinfo=UTC)  # 08:30 on the 10th in Seoul
    rows = [[utc, date(2027, 3, 10), datetime(2027, 3, 10, 9, 0), time(9, 30)]]
    sheet = workbook(xlsx_response(["a", "b", "c", "d"], rows, "x.xlsx", sheet_title="t")).active
    aware, day, naive, clock = sheet[2]
    assert aware.value == datetime(2027, 3, 10, 8, 30) and aware.number_format == (
        "yyyy-mm-dd hh:mm"
    )
    # A workbook has no date-only value: a date reads back as its midnight.
    assert day.value == datetime(2027, 3, 10) and day.number_format == "yyyy-mm-dd"
    assert naive.value == datetime(2027, 3, 10, 9, 0)  # naive means local already
    assert clock.value == time(9, 30) and clock.number_format == "hh:mm"
    assert all(cell.is_date for cell in (aware, day, naive, clock))
    assert [cell.data_type for cell in sheet[1]] == ["s"] * 4  # the header stays text
    csv_rows = list(
        csv.reader(
            csv_response(["a", "b", "c", "d"], rows, "x.csv").data.decode("utf-8-sig").splitlines()
        )
    )
    assert csv_rows[1] == ["2027-03-10 08:30", "2027-03-10", "2027-03-10 09:00", "09:30"]


def test_numbers_stay_numbers_and_empty_texts_empty_cells(app) -> None:
    rows = [[-3, Decimal("-1.5"), 0, "", None, "-", True]]
    sheet = workbook(xlsx_response(list("abcdefg"), rows, "x.xlsx", sheet_title="t")).active
    assert [cell.value for cell in sheet[2]] == [-3, -1.5, 0, None, None, "'-", True]
    assert [cell.data_type for cell in sheet[2]][:3] == ["n", "n", "n"]


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("text/csv; charset=utf-8; charset=utf-8", "text/csv; charset=utf-8"),
        ("text/csv; Charset=utf-8; charset=utf-8", "text/csv; charset=utf-8"),
        ("text/calendar; charset=utf-8", "text/calendar; charset=utf-8"),
        ("application/pdf", "application/pdf"),
        ("", "application/octet-stream"),
    ],
)
def test_a_content_type_carries_each_parameter_once(app, given: str, sent: str) -> None:
    assert content_type(given).lower() == sent
    assert file_response(b"x", "x.bin", given).headers.getlist("Content-Type") == [
        content_type(given)
    ]


def test_a_pdf_is_shown_inline_unless_asked_otherwise(app) -> None:
    assert pdf_response(b"%PDF", "a.pdf").headers["Content-Disposition"].startswith("inline;")
    attachment = pdf_response(b"%PDF", "a.pdf", inline=False)
    assert attachment.headers["Content-Disposition"].startswith("attachment;")
    assert attachment.mimetype == "application/pdf"
