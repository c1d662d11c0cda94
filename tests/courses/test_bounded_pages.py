"""Lists are bounded: the catalog pages through results and the API hands out a cursor,
and the work per page does not grow with the data."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event

from app.core.extensions import db
from courses import services
from tests.factories import make_course, publish_year


def _courses(count: int, year: int = 2027) -> None:
    start = datetime(year, 1, 5, 10, 0)
    for number in range(count):
        make_course(starts=start + timedelta(days=number % 300, hours=number % 3))
    publish_year(year)


@contextmanager
def _statements():
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_catalog_shows_one_page_and_links_the_next(app, client) -> None:
    _courses(services.CATALOG_PAGE_SIZE + 5)
    first = client.get("/courses/?year=2027").get_data(as_text=True)
    assert first.count('class="card course-card"') == services.CATALOG_PAGE_SIZE
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/courses/?year=2027&page=2").get_data(as_text=True)
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert second.count('class="card course-card"') == 5
    page = services.catalog_page(services.CourseFilter(year=2027), number=2)
    assert (page.total, len(page.courses), page.pages) == (services.CATALOG_PAGE_SIZE + 5, 5, 2)
    # Out of range pages show the last page, never an error.
    assert client.get("/courses/?page=999999999").status_code == 200
    assert client.get("/courses/?page=-4").status_code == 200


def test_the_api_walks_every_course_once_through_its_cursor(app, client) -> None:
    _courses(23)
    seen, url, pages = [], "/api/v1/courses?year=2027&limit=5", 0
    while url:
        data = client.get(url.removeprefix("http://localhost")).get_json()
        seen.extend(course["id"] for course in data["courses"])
        assert len(data["courses"]) <= 5
        url, pages = data["next"], pages + 1
        assert url is None or url.startswith("http://localhost/api/v1/courses?")
    assert pages == 5 and len(seen) == len(set(seen)) == 23
    starts = [services.get_course(course_id).starts_at for course_id in seen]
    assert starts == sorted(starts)


def test_a_bad_limit_or_cursor_is_a_400_with_a_message(app, client) -> None:
    _courses(1)
    for query in (
        "limit=0",
        "limit=100000",
        "limit=x",
        "cursor=not-a-cursor",
        "cursor=" + "A" * 300,
    ):
        response = client.get(f"/api/v1/courses?year=2027&{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"], query


def test_statements_per_page_do_not_grow_with_the_data(app, client) -> None:
    _courses(10)
    with _statements() as small:
        client.get("/courses/?year=2027")
        client.get("/api/v1/courses?year=2027")
    _courses(90)
    with _statements() as large:
        client.get("/courses/?year=2027")
        client.get("/api/v1/courses?year=2027")
    assert len(large) == len(small), (len(small), len(large))
