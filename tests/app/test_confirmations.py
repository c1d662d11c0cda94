"""Irreversible actions ask first, on a page of their own (no script): the button is a
link to the action's URL, whose GET shows what will happen and changes nothing, and whose
POST (the URL contract's) does it."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.core.accounts.models import Role
from app.core.extensions import db
from courses import enrolment
from courses.models import CalendarYear, EnrollmentStatus
from tests.conftest import login, post_form
from tests.factories import make_course, make_user


def asks(client, url: str, *expected: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, url
    html = page.get_data(as_text=True)
    assert f'action="{url}"' in html and 'method="post"' in html and "되돌릴 수 없습니다" in html
    for text in expected:
        assert text in html
    assert "<script" not in html
    return html


def test_a_learner_confirms_before_the_enrolment_is_cancelled(client) -> None:
    course = make_course(starts=datetime.now() + timedelta(days=30), title="기술이전 통제")
    learner = make_user()
    enrolment.enroll(course, learner, by=learner)
    db.session.commit()
    login(client, learner.email)
    detail = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert f'href="/courses/{course.id}/cancel"' in detail  # a link, not a form

    asks(client, f"/courses/{course.id}/cancel", "기술이전 통제", "대기자")
    db.session.expire_all()
    assert enrolment.find_enrollment(course.id, learner.id).status == EnrollmentStatus.ENROLLED

    assert post_form(client, f"/courses/{course.id}/cancel").status_code == 302
    db.session.expire_all()
    assert enrolment.find_enrollment(course.id, learner.id).status == EnrollmentStatus.CANCELLED


def test_staff_confirm_before_publishing_the_calendar_or_closing_a_course(client) -> None:
    course = make_course(starts=datetime(2027, 3, 10, 10, 0))
    login(client, make_user(Role.STAFF).email)
    asks(client, "/calendar/2027/publish", "2027")
    assert db.session.get(CalendarYear, 2027) is None or not db.session.get(
        CalendarYear, 2027
    ).is_published
    asks(client, f"/courses/{course.id}/close", str(course.completion_threshold))
    db.session.expire_all()
    assert course.closed_at is None

    assert post_form(client, "/calendar/2027/publish").status_code == 302
    db.session.expire_all()
    assert db.session.get(CalendarYear, 2027).is_published


def test_the_confirmation_pages_keep_their_access_rules(client) -> None:
    course = make_course(starts=datetime.now() + timedelta(days=30))
    assert client.get(f"/courses/{course.id}/close").status_code == 302  # sign in first
    login(client, make_user().email)
    assert client.get(f"/courses/{course.id}/close").status_code == 403
    assert client.get("/calendar/2027/publish").status_code == 403
