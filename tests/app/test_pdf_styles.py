"""A PDF template's own style is applied, and parsed once per process, not per document."""

from __future__ import annotations

import io

from pypdf import PdfReader

from app.core import pdf

DOCUMENT = """<!doctype html><html lang="ko"><head><meta charset="utf-8">
<style>@page { size: A5; margin: 10mm; } p { font-family: "NanumGothic"; }</style>
</head><body><p>{text}</p></body></html>"""


def _render(app, text: str) -> PdfReader:
    with app.app_context():
        return PdfReader(io.BytesIO(pdf.render_pdf_from_html(DOCUMENT.replace("{text}", text))))


def test_the_style_element_is_applied(app) -> None:
    reader = _render(app, "수료증 확인")
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (420, 595)  # A5 in points, from the <style>
    assert "수료증 확인" in reader.pages[0].extract_text()


def test_the_same_style_is_parsed_once_for_many_documents(app) -> None:
    pdf.parsed_stylesheet.cache_clear()
    for name in ("김민준", "이서연", "박도윤"):
        assert name in _render(app, name).pages[0].extract_text()
    info = pdf.parsed_stylesheet.cache_info()
    assert (info.misses, info.hits) == (1, 2)
