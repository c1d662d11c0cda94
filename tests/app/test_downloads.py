"""Downloads: Korean file names that survive every browser, CSV that Excel reads, no formulas."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from app.core.downloads import (
    ascii_filename,
    content_disposition,
    csv_response,
    pdf_response,
    xlsx_response,
)


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
    book = load_workbook(io.BytesIO(xlsx_response(["a"], rows, "x.xlsx").data))
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
    book = load_workbook(io.BytesIO(xlsx_response(["a", "b", "c"], rows, "x.xlsx").data))
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


def test_a_pdf_is_shown_inline_unless_asked_otherwise(app) -> None:
    assert pdf_response(b"%PDF", "a.pdf").headers["Content-Disposition"].startswith("inline;")
    attachment = pdf_response(b"%PDF", "a.pdf", inline=False)
    assert attachment.headers["Content-Disposition"].startswith("attachment;")
    assert attachment.mimetype == "application/pdf"
