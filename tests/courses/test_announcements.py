"""Announcements a week ahead, the Atom feed, the newsletter's double opt-in, standard 2."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.core.accounts.models import Role
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from app.core.timeutil import local_to_utc
from app.core.unit_of_work import unit_of_work
from courses import announcements
from courses.models import Announcement, Subscriber
from tests.conftest import login, post_form
from tests.factories import make_course, make_user

ATOM = "{http://www.w3.org/2005/Atom}"


def in_days(days: float) -> datetime:
    """Local wall-clock time (Asia/Seoul, as the factories take it) `days` from now."""
    return datetime.now(ZoneInfo("Asia/Seoul")).replace(tzinfo=None) + timedelta(days=days)


def mails_to(address: str) -> list[OutboxMessage]:
    return list(
        db.session.execute(
            select(OutboxMessage).where(OutboxMessage.to_address == address)
        ).scalars()
    )


def test_a_course_is_announced_14_days_ahead_with_its_schedule(app) -> None:
    due = make_course(title="상황허가(캐치올) 실무", starts=in_days(13), venue="부산 벡스코")
    make_course(starts=in_days(15))  # announced tomorrow, not today
    report = announcements.announce_due(unit=unit_of_work)
    assert (report.published, report.late) == (1, 0)
    (item,) = announcements.published_announcements()
    assert item.course_id == due.id
    assert "상황허가(캐치올) 실무" in item.title
    assert "부산 벡스코" in item.body and "6시간" in item.body
    assert not item.late


def test_a_course_inside_a_week_is_announced_at_once_and_flagged_late(app) -> None:
    make_course(starts=in_days(3))
    report = announcements.announce_due(unit=unit_of_work)
    assert (report.published, report.late) == (1, 1)
    assert announcements.published_announcements()[0].late


def test_publishing_a_course_late_announces_it_at_once(client) -> None:
    from courses.models import CourseStatus
    from tests.factories import publish_year

    staff = make_user(Role.STAFF)
    start = in_days(5)
    publish_year(start.year)
    course = make_course(starts=start, status=CourseStatus.DRAFT)
    login(client, staff.email)
    post_form(client, f"/courses/{course.id}/publish")
    item = announcements.announcement_for(course.id)
    assert item is not None and item.published_at is not None and item.late


def test_staff_edits_survive_into_the_published_announcement(client) -> None:
    course = make_course(starts=in_days(20))
    login(client, make_user(Role.STAFF).email)
    assert client.get(f"/courses/{course.id}/announcement").status_code == 200
    post_form(
        client,
        f"/courses/{course.id}/announcement",
        {"title": "[교육 안내] 특별 과정", "body": "주차 공간이 없으니 대중교통을 이용해 주세요."},
    )
    announcements.announce_due(now=local_to_utc(in_days(7)))
    db.session.expire_all()
    item = announcements.announcement_for(course.id)
    assert item.title == "[교육 안내] 특별 과정"
    assert item.published_at is not None


def test_the_newsletter_is_double_opt_in_and_every_mail_can_unsubscribe(client) -> None:
    response = post_form(client, "/newsletter/", {"email": "Reader@Example.com"})
    assert response.status_code == 200
    (confirmation,) = mails_to("reader@example.com")
    make_course(starts=in_days(10))
    announcements.announce_due(unit=unit_of_work)
    assert len(mails_to("reader@example.com")) == 1  # unconfirmed: no newsletter

    confirm_path = re.search(r"https?://[^/]+(/newsletter/confirm/\S+)", confirmation.body).group(1)
    assert client.get(confirm_path).status_code == 200  # opening the link only asks
    assert db.session.execute(select(Subscriber.confirmed_at)).scalar_one() is None
    assert post_form(client, confirm_path).status_code == 200
    assert db.session.execute(select(Subscriber.confirmed_at)).scalar_one() is not None
    make_course(starts=in_days(11))
    announcements.announce_due(unit=unit_of_work)
    newsletter = [m for m in mails_to("reader@example.com") if m.unsubscribe_url]
    assert len(newsletter) == 1
    assert newsletter[0].unsubscribe_url in newsletter[0].body

    unsubscribe_path = re.sub(r"https?://[^/]+", "", newsletter[0].unsubscribe_url)
    assert client.get(unsubscribe_path).status_code == 200  # GET only asks
    assert client.post(unsubscribe_path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    subscriber = db.session.execute(select(Subscriber)).scalar_one()
    assert subscriber.unsubscribed_at is not None
    make_course(starts=in_days(12))
    announcements.announce_due(unit=unit_of_work)
    assert len([m for m in mails_to("reader@example.com") if m.unsubscribe_url]) == 1


def test_a_bad_confirmation_or_unsubscribe_token_is_404(client) -> None:
    assert client.get("/newsletter/confirm/nope").status_code == 404
    assert post_form(client, "/newsletter/confirm/nope").status_code == 404
    assert client.get("/newsletter/unsubscribe/nope").status_code == 404
    assert client.post("/newsletter/unsubscribe/nope").status_code == 404


def test_the_atom_feed_is_valid_atom(client) -> None:
    make_course(title="미국 수출통제(EAR)의 이해", starts=in_days(9))
    announcements.announce_due(unit=unit_of_work)
    response = client.get("/announcements.atom")
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}") is not None
    (entry,) = feed.findall(f"{ATOM}entry")
    for required in ("id", "title", "updated", "link", "content"):
        assert entry.find(f"{ATOM}{required}") is not None, required
    assert "미국 수출통제(EAR)의 이해" in entry.find(f"{ATOM}title").text
    assert client.get("/announcements/").status_code == 200


def test_an_unpublished_announcement_is_hidden_from_the_public(client) -> None:
    course = make_course(starts=in_days(40))
    item = announcements.ensure_announcement(course)
    db.session.commit()
    assert client.get(f"/announcements/{item.id}").status_code == 404


def test_standard_two_flags_courses_starting_soon_without_announcement(client) -> None:
    now = local_to_utc(datetime.now())
    on_time = make_course(title="제때 안내", starts=in_days(20))
    soon = make_course(title="임박 미안내", starts=in_days(4))
    later = make_course(title="예정", starts=in_days(40))
    announcements.announce(on_time, now=now - timedelta(days=1))
    db.session.commit()
    states = {
        row.course.id: row.state
        for year in {on_time.year, soon.year, later.year}  # the dates may straddle New Year
        for row in announcements.announcement_standard(year, now=now)
    }
    assert states[on_time.id] == "met"
    assert states[soon.id] == "overdue"
    assert states[later.id] == "scheduled"

    login(client, make_user(Role.STAFF).email)
    page = client.get("/staff/").get_data(as_text=True)
    assert f'data-unannounced="{soon.id}"' in page
    assert f'data-unannounced="{later.id}"' not in page
    assert "임박 과정 미안내" in page


def test_one_announcement_per_course_even_when_ensured_twice(app) -> None:
    course = make_course(starts=in_days(30))
    first = announcements.ensure_announcement(course)
    second = announcements.ensure_announcement(course)
    db.session.commit()
    assert first.id == second.id
    assert len(list(db.session.execute(select(Announcement)).scalars())) == 1


def test_the_home_page_lists_the_latest_announcements_which_name_their_contact(
    app, client
) -> None:
    course = make_course(starts=datetime.now() + timedelta(days=5), title="기술이전 통제 실무")
    announcements.announce(course)
    db.session.commit()
    home = client.get("/").get_data(as_text=True)
    item = db.session.execute(select(Announcement)).scalar_one()
    assert f'href="/announcements/{item.id}"' in home and "최근 교육 안내" in home
    page = client.get(f"/announcements/{item.id}").get_data(as_text=True)
    assert f"담당: {app.config['MAIL_CONTACT_NAME']}" in page  # nobody edited it: the team

    editor = make_user(Role.STAFF, name="박담당", phone="02-555-0101")
    announcements.edit_announcement(item, title=item.title, body="수정된 안내", by=editor)
    db.session.commit()
    page = client.get(f"/announcements/{item.id}").get_data(as_text=True)
    assert "담당: 박담당" in page and "02-555-0101" in page
