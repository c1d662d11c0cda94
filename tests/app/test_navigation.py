"""Where the home page's calendar button and the menu's calendar link lead, and what an
anonymous visitor is told on the way to a signed-in page."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from app.core.timeutil import local_today
from courses import services as courses
from tests.factories import make_course, publish_year

CALENDAR_BUTTON = re.compile(
    r'<a class="button" href="/calendar/(\d{4})">(\d{4})년 연간 교육일정</a>'
)


def calendar_targets(client) -> tuple[int, int]:
    """(the year of the home page's calendar button, the year the menu's link redirects to)."""
    home = client.get("/").get_data(as_text=True)
    button = CALENDAR_BUTTON.search(home)
    assert button, home[:3000]
    assert button.group(1) == button.group(2)
    assert 'href="/calendar/"' in home  # the menu's "연간 교육일정"
    menu = client.get("/calendar/")
    assert menu.status_code == 302
    return int(button.group(1)), int(menu.headers["Location"].rsplit("/", 1)[1])


def year_with_courses(year: int, *, published: bool) -> None:
    make_course(starts=datetime(year, 3, 10, 10, 0))
    if published:
        publish_year(year)


def test_calendar_links_lead_to_this_year_until_next_year_is_published(client) -> None:
    this_year = local_today().year
    year_with_courses(this_year - 1, published=True)
    year_with_courses(this_year, published=True)
    year_with_courses(this_year + 1, published=False)
    assert calendar_targets(client) == (this_year, this_year)

    publish_year(this_year + 1)  # next year's calendar comes out (in December)
    assert calendar_targets(client) == (this_year + 1, this_year + 1)


def test_in_january_before_the_new_year_is_published_the_links_show_the_last_year(
    client,
) -> None:
    this_year = local_today().year
    year_with_courses(this_year - 1, published=True)
    year_with_courses(this_year, published=False)
    assert calendar_targets(client) == (this_year - 1, this_year - 1)


@pytest.mark.parametrize(
    ("published", "today", "shown"),
    [
        ([2026], date(2026, 6, 1), 2026),
        ([2026, 2027], date(2026, 12, 10), 2027),
        ([2026, 2027], date(2027, 1, 5), 2027),
        ([2026], date(2027, 1, 5), 2026),
        # A year published far ahead (by mistake) does not take over the links.
        ([2026, 2029], date(2026, 6, 1), 2026),
        ([2029], date(2026, 6, 1), 2029),
        ([], date(2026, 6, 1), None),
    ],
)
def test_current_calendar_year(app, published, today, shown) -> None:
    for year in published:
        publish_year(year)
    assert courses.current_calendar_year(today) == shown


def test_anonymous_visitor_is_asked_in_korean_to_sign_in(client) -> None:
    response = client.get("/me/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "계속하려면 로그인해 주세요." in login_page
    assert "Please sign in to continue." not in login_page


def test_the_sign_in_prompt_follows_the_language_switch(client) -> None:
    client.post("/lang/en", data={"next": "/"})
    response = client.get("/me/", follow_redirects=True)
    assert "Please sign in to continue." in response.get_data(as_text=True)
