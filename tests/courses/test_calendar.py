"""The annual calendar: published as a whole, as a page, a PDF leaflet and an iCalendar feed."""

from __future__ import annotations

import io
import logging
from datetime import datetime

import pytest
from icalendar import Calendar
from pypdf import PdfReader
from sqlalchemy import select

from app.core.accounts.models import Role
from app.core.audit import AuditEntry
from app.core.extensions import db
from app.core.pdf import render_pdf_from_html
from app.core.vocabulary import Region
from courses.models import Audience, CalendarYear, Course, CourseStatus
from tests.conftest import login, post_form
from tests.factories import make_course, make_user, publish_year
from tests.pdfs import assert_lean

TITLES = ["전략물자 판정 실무", "상황허가(캐치올) 실무", "자율준수무역거래자(CP) 지정 준비"]


@pytest.fixture
def year_2027() -> list[Course]:
    courses = [
        make_course(title=title, starts=datetime(2027, month, 10, 10, 0))
        for title, month in zip(TITLES, (2, 5, 11), strict=True)
    ]
    publish_year(2027)
    return courses


def test_an_unpublished_year_is_404_except_for_staff(client) -> None:
    make_course(status=CourseStatus.DRAFT)
    for url in ("/calendar/2027", "/calendar/2027.ics", "/calendar/2027.pdf"):
        assert client.get(url).status_code == 404, url
    login(client, make_user(Role.LEARNER).email)
    assert client.get("/calendar/2027").status_code == 404
    login(client, make_user(Role.STAFF).email)
    assert client.get("/calendar/2027").status_code == 200


@pytest.mark.parametrize(
    "url", ["/calendar/abcd", "/calendar/99999", "/calendar/1999", "/calendar/20x7.pdf"]
)
def test_a_malformed_year_is_404(client, url: str) -> None:
    assert client.get(url).status_code == 404


def test_publishing_the_calendar_publishes_its_drafts_and_names_the_publisher(client) -> None:
    drafts = [make_course(status=CourseStatus.DRAFT, title=t) for t in TITLES]
    staff = make_user(Role.STAFF, name="박정민")
    login(client, staff.email)

    response = post_form(client, "/calendar/2027/publish")
    assert response.status_code == 302
    db.session.expire_all()
    calendar = db.session.get(CalendarYear, 2027)
    assert calendar.published_by_id == staff.id
    assert all(db.session.get(Course, c.id).status == CourseStatus.PUBLISHED for c in drafts)
    assert db.session.execute(select(AuditEntry.action)).scalars().all() == ["calendar.publish"]

    public = client.application.test_client().get("/calendar/2027").get_data(as_text=True)
    assert "박정민" in public
    for title in TITLES:
        assert title in public


def test_publishing_twice_is_refused_without_changing_the_date(client, year_2027) -> None:
    published_at = db.session.get(CalendarYear, 2027).published_at
    login(client, make_user(Role.STAFF).email)
    response = post_form(client, "/calendar/2027/publish", follow_redirects=True)
    assert "이미" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CalendarYear, 2027).published_at == published_at


def test_the_calendar_page_groups_courses_by_month_and_filters(client, year_2027) -> None:
    make_course(
        title="경영진 대상 수출통제 리스크",
        audience=Audience.EXECUTIVES,
        region=Region.BUSAN,
        starts=datetime(2027, 6, 3, 14, 0),
    )
    page = client.get("/calendar/2027").get_data(as_text=True)
    assert page.index("2월") < page.index(TITLES[0]) < page.index("5월") < page.index(TITLES[1])

    filtered = client.get("/calendar/2027?region=busan").get_data(as_text=True)
    assert "경영진 대상 수출통제 리스크" in filtered
    assert TITLES[0] not in filtered


def test_an_invalid_filter_is_explained_not_a_500(client, year_2027) -> None:
    response = client.get("/calendar/2027?region=atlantis&audience=children")
    assert response.status_code == 200
    assert 'class="error"' in response.get_data(as_text=True)


def test_the_leaflet_pdf_shows_every_course_in_korean(client, year_2027) -> None:
    response = client.get("/calendar/2027.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert_lean(response.data)
    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    for title in TITLES:
        assert title in text
    assert "2027 연간 교육일정" in text
    assert reader.metadata.title.endswith("2027 연간 교육일정")


def test_the_leaflet_renders_korean_without_missing_glyphs(app, year_2027, caplog) -> None:
    from courses import exports, services

    caplog.set_level(logging.WARNING, logger="weasyprint")
    courses = services.find_courses(services.CourseFilter(year=2027))
    exports.leaflet_pdf(2027, services.get_calendar(2027), courses)
    glyph_warnings = [r.getMessage() for r in caplog.records if "glyph" in r.getMessage().lower()]
    assert glyph_warnings == []


def test_the_missing_glyph_check_can_fail(app, caplog) -> None:
    """Control for the test above: a character no installed font has is reported."""
    caplog.set_level(logging.WARNING, logger="weasyprint")
    render_pdf_from_html('<p style="font-family: NanumGothic">\U0001d11e</p>')
    assert any("glyph" in r.getMessage().lower() for r in caplog.records)


def test_the_ics_feed_has_one_event_per_session_of_each_published_course(client, year_2027) -> None:
    """Each course here is one day, so one event each; several days are several events
    (tests/courses/test_calendar_feeds.py)."""
    make_course(title="취소된 과정", status=CourseStatus.CANCELLED)
    make_course(title="공개 전 과정", status=CourseStatus.DRAFT)
    response = client.get("/calendar/2027.ics")
    assert response.mimetype == "text/calendar"
    feed = Calendar.from_ical(response.data)
    events = {str(e["summary"]): str(e["status"]) for e in feed.walk("VEVENT")}
    assert {title: "CONFIRMED" for title in TITLES}.items() <= events.items()
    assert events["취소된 과정"] == "CANCELLED"
    assert "공개 전 과정" not in events
    assert len([s for s in events.values() if s == "CONFIRMED"]) == len(TITLES)
    first = next(e for e in feed.walk("VEVENT") if str(e["summary"]) == TITLES[0])
    assert first.decoded("dtstart") == datetime.fromisoformat("2027-02-10T01:00:00+00:00")
    assert str(first["uid"]) == f"course-{year_2027[0].id}-1@localhost"


def test_the_api_lists_a_published_year(client, year_2027) -> None:
    data = client.get("/api/v1/courses?year=2027").get_json()
    assert data["published"] is True
    assert [c["title"] for c in data["courses"]] == TITLES
    assert data["courses"][0]["starts_at"] == "2027-02-10T01:00:00+00:00"


def test_the_api_hides_an_unpublished_year_and_rejects_a_bad_one(client) -> None:
    make_course(status=CourseStatus.DRAFT)
    assert client.get("/api/v1/courses?year=2027").get_json() == {
        "year": 2027,
        "published": False,
        "courses": [],
        "next": None,
    }
    for bad in ("abcd", "", "99999", "-1"):
        response = client.get(f"/api/v1/courses?year={bad}")
        assert response.status_code == 400
        assert "error" in response.get_json()


def test_the_catalog_filters_by_audience_including_courses_for_everyone(client, year_2027) -> None:
    make_course(title="임원 과정", audience=Audience.EXECUTIVES)
    make_course(title="모두를 위한 과정", audience=Audience.ALL)
    page = client.get("/courses/?audience=executives").get_data(as_text=True)
    assert "임원 과정" in page and "모두를 위한 과정" in page
    assert TITLES[0] not in page


def test_the_catalog_rejects_a_bad_year_filter_with_a_message(client, year_2027) -> None:
    response = client.get("/courses/?year=abcd")
    assert response.status_code == 200
    assert 'class="error"' in response.get_data(as_text=True)


def test_an_unpublished_year_says_when_it_comes_out(client, year_2027) -> None:
    """Still a 404 (the URL contract), with a page that says what to expect."""
    response = client.get("/calendar/2099")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "2099" in page and "1월" in page and 'href="/calendar/2027"' in page
    assert client.get("/calendar/2099.pdf").status_code == 404
