"""The leaflet is laid out once per change of what it shows, and served from the store
(with ETag and 304) otherwise."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from pypdf import PdfReader

from app.core import document_cache
from app.core.extensions import db
from courses.models import Course
from tests.factories import make_course, publish_year


def _layouts(monkeypatch) -> list[int]:
    """Count WeasyPrint layouts (the real renderer still runs)."""
    calls: list[int] = []
    real = document_cache.render_pdf_from_html

    def counting(html: str, **kwargs) -> bytes:
        calls.append(len(html))
        return real(html, **kwargs)

    monkeypatch.setattr(document_cache, "render_pdf_from_html", counting)
    return calls


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_leaflet_is_laid_out_once_until_a_course_changes(app, client, monkeypatch) -> None:
    course = make_course(starts=datetime(2027, 3, 10, 10, 0), title="전략물자 판정 실무 기초")
    publish_year(2027)
    layouts = _layouts(monkeypatch)

    first = client.get("/calendar/2027.pdf")
    second = client.get("/calendar/2027.pdf")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data and len(layouts) == 1
    assert "전략물자 판정 실무 기초" in _text(first.data)
    # One file keyed by the HTML laid out, one by the stamp of the year's data.
    assert len(list(Path(app.config["DOCUMENT_CACHE_DIR"]).glob("*.pdf"))) == 2

    again = client.get("/calendar/2027.pdf", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and len(layouts) == 1

    db.session.get(Course, course.id).title = "이중용도품목 판정 심화"
    db.session.commit()
    changed = client.get("/calendar/2027.pdf")
    assert len(layouts) == 2 and changed.headers["ETag"] != first.headers["ETag"]
    assert "이중용도품목 판정 심화" in _text(changed.data)


def test_the_store_keeps_only_the_newest_files(app, client, monkeypatch) -> None:
    app.config["DOCUMENT_CACHE_FILES"] = 2
    course = make_course(starts=datetime(2027, 3, 10, 10, 0))
    publish_year(2027)
    for number in range(4):
        db.session.get(Course, course.id).title = f"과정 {number}"
        db.session.commit()
        assert client.get("/calendar/2027.pdf").status_code == 200
    assert len(list(Path(app.config["DOCUMENT_CACHE_DIR"]).glob("*.pdf"))) == 2


def test_a_change_the_leaflet_does_not_show_lays_nothing_out(app, client, monkeypatch) -> None:
    """A seat taken changes the course row, hence the stamp: the HTML is made again, finds
    its layout stored, and nothing is laid out."""
    course = make_course(starts=datetime(2027, 3, 10, 10, 0))
    publish_year(2027)
    layouts = _layouts(monkeypatch)
    first = client.get("/calendar/2027.pdf")
    db.session.get(Course, course.id).seats_taken += 1
    db.session.commit()
    again = client.get("/calendar/2027.pdf")
    assert again.data == first.data and len(layouts) == 1


def test_a_stored_leaflet_is_served_without_loading_the_courses(app, client) -> None:
    from sqlalchemy import event

    for day in (10, 17, 24):
        make_course(starts=datetime(2027, 3, day, 10, 0))
    publish_year(2027)
    assert client.get("/calendar/2027.pdf").status_code == 200
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get("/calendar/2027.pdf").status_code == 200
        assert client.get("/calendar/2027.ics").status_code == 200
        assert client.get("/calendar/2027.ics").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    # The course rows are loaded once: to make the feed, the first time it is asked for.
    # Otherwise the calendar row and the stamp's two aggregates answer.
    loads = [sql for sql in statements if sql.lstrip().startswith("SELECT courses.id")]
    assert len(loads) == 1, statements


def test_a_printed_setting_changes_the_stored_leaflet(app, client) -> None:
    make_course(starts=datetime(2027, 3, 10, 10, 0))
    publish_year(2027)
    before = client.get("/calendar/2027.pdf")
    app.config["INSTITUTE_NAME"] = "전략물자관리원 교육원"
    after = client.get("/calendar/2027.pdf")
    assert "전략물자관리원 교육원" in _text(after.data) and after.data != before.data
