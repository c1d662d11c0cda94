"""Public pages are shared briefly between anonymous visitors, and only between them."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.core import page_cache
from app.core.accounts.models import Role
from app.core.extensions import db
from courses.models import Course
from tests.conftest import login
from tests.factories import make_course, make_user, publish_year


@pytest.fixture
def cached(app):
    app.config["PUBLIC_PAGE_CACHE_SECONDS"] = 60
    page_cache.clear()
    yield app
    page_cache.clear()


def _rename(course_id: int, title: str) -> None:
    db.session.get(Course, course_id).title = title
    db.session.commit()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/courses/",
        "/courses/{id}",
        "/calendar/2027",
        "/calendar/2027.ics",
        "/calendar/upcoming.ics",
    ],
)
def test_anonymous_visitors_share_a_page_for_a_few_seconds(cached, client, path) -> None:
    course = make_course(starts=datetime(2027, 3, 10, 10, 0), title="전략물자 판정 실무 기초")
    publish_year(2027)
    url = path.format(id=course.id)
    first = client.get(url)
    assert first.status_code == 200 and "전략물자 판정 실무 기초" in first.get_data(as_text=True)
    _rename(course.id, "이름이 바뀐 과정")

    again = client.get(url)
    assert again.get_data() == first.get_data()  # shared, not rebuilt
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in again.headers

    if "ETag" in first.headers:
        assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    page_cache.clear()
    assert "이름이 바뀐 과정" in client.get(url).get_data(as_text=True)


def test_a_signed_in_person_never_gets_a_shared_page(cached, client, app) -> None:
    course = make_course(starts=datetime(2027, 3, 10, 10, 0), title="처음 제목")
    publish_year(2027)
    staff = make_user(Role.STAFF, name="박담당")
    assert "처음 제목" in client.get("/courses/").get_data(as_text=True)  # now cached
    _rename(course.id, "바뀐 제목")

    login(client, staff.email)
    page = client.get("/courses/").get_data(as_text=True)
    assert "바뀐 제목" in page and "박담당" in page


def test_a_page_that_makes_a_session_is_not_shared(cached, client) -> None:
    """Shared only through the decorator, and only without a session: the sign-in page
    makes a CSRF token, so each visitor gets their own."""
    first = client.application.test_client().get("/auth/login")
    second = client.application.test_client().get("/auth/login")
    assert "session=" in first.headers["Set-Cookie"]
    assert first.get_data() != second.get_data()  # two tokens, two pages


@pytest.mark.parametrize("path", ["/courses/", "/courses/{id}"])
def test_shared_pages_carry_no_session(cached, client, path) -> None:
    course = make_course(starts=datetime(2027, 3, 10, 10, 0))
    publish_year(2027)
    for _ in range(2):
        response = client.application.test_client().get(path.format(id=course.id))
        assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_a_learner_gets_their_own_course_page_after_a_shared_one(cached, client) -> None:
    course = make_course(starts=datetime(2027, 3, 10, 10, 0))
    publish_year(2027)
    learner = make_user(Role.LEARNER, name="김학습")
    anonymous = client.application.test_client().get(f"/courses/{course.id}")
    assert "김학습" not in anonymous.get_data(as_text=True)

    login(client, learner.email)
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "김학습" in page and f'action="/courses/{course.id}/enroll"' in page


def test_off_when_configured_to_zero(app, client) -> None:
    app.config["PUBLIC_PAGE_CACHE_SECONDS"] = 0
    course = make_course(starts=datetime(2027, 3, 10, 10, 0), title="처음 제목")
    publish_year(2027)
    client.get("/courses/")
    _rename(course.id, "바뀐 제목")
    assert "바뀐 제목" in client.get("/courses/").get_data(as_text=True)
