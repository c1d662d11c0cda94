"""Calendar feeds and invitations: one event per session, read alike by three parsers
(icalendar, vobject, recurring-ical-events); invitations that calendar clients can apply
(iTIP: ORGANIZER, ATTENDEE, SEQUENCE, REQUEST and CANCEL of the same UIDs); live
subscriptions (webcal links, the upcoming feed, a personal feed behind a revocable token);
and conditional GET (ETag, Last-Modified, 304) on every feed and on the leaflet."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from email import policy

import icalendar
import pytest
import recurring_ical_events
import vobject
from flask_babel import gettext
from sqlalchemy import event, select
from werkzeug.http import parse_date

from app.core.accounts.models import Role
from app.core.extensions import db
from app.core.timeutil import local_to_utc, to_local, utcnow
from courses import attendance, exports
from courses.models import (
    Announcement,
    CalendarFeedToken,
    Course,
    CourseSession,
    CourseStatus,
    Enrollment,
    EnrollmentStatus,
)
from tests.conftest import login, post_form
from tests.factories import make_course, make_two_day_course, make_user, publish_year

HOST = "localhost"  # BASE_URL of the test configuration is http://localhost


# --- Reading a calendar three ways -----------------------------------------------------------


def parse(data: bytes) -> tuple[icalendar.Calendar, list[icalendar.Event]]:
    """The calendar and its events by UID, after checking that icalendar, vobject and
    recurring-ical-events all see the same events at the same times."""
    calendar = icalendar.Calendar.from_ical(data)
    events = sorted(calendar.walk("VEVENT"), key=lambda e: str(e["uid"]))
    by_icalendar = sorted((str(e["uid"]), e.decoded("dtstart"), e.decoded("dtend")) for e in events)

    parsed = vobject.readOne(data.decode("utf-8"))
    by_vobject = sorted(
        (e.uid.value, e.dtstart.value, e.dtend.value) for e in parsed.contents.get("vevent", [])
    )

    occurrences = recurring_ical_events.of(calendar).between(date(2000, 1, 1), date(2101, 1, 1))
    by_recurrence = sorted(
        (str(e["uid"]), e.decoded("dtstart"), e.decoded("dtend")) for e in occurrences
    )
    assert by_icalendar == by_vobject == by_recurrence
    return calendar, events


def uids(events: list[icalendar.Event]) -> list[str]:
    return [str(e["uid"]) for e in events]


def assert_within_one_day(events: list[icalendar.Event]) -> None:
    for e in events:
        start, end = to_local(e.decoded("dtstart")), to_local(e.decoded("dtend"))
        assert start.date() == end.date(), (start, end)
        assert timedelta(0) < end - start <= timedelta(hours=12)


def day_label(app, title: str, number: int, total: int) -> str:
    with app.test_request_context():
        return gettext(
            "%(title)s (day %(number)d of %(total)d)", title=title, number=number, total=total
        )


def soon(days: int, hour: int = 10) -> datetime:
    """A local wall-clock time `days` from now (negative: in the past)."""
    moment = to_local(utcnow()).replace(tzinfo=None) + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def enrol(course: Course, learner, status: EnrollmentStatus = EnrollmentStatus.ENROLLED) -> None:
    db.session.add(Enrollment(course_id=course.id, learner_id=learner.id, status=status))
    if status == EnrollmentStatus.ENROLLED:
        db.session.get(Course, course.id).seats_taken += 1
    db.session.commit()


@pytest.fixture
def two_day(app) -> Course:
    course = make_two_day_course(datetime(2027, 3, 11, 10, 0), title="CP 실무자 과정")
    course.calendar_sequence = 3
    db.session.commit()
    publish_year(2027, at=utcnow() - timedelta(days=1))  # published, not in the future
    return course


# --- One event per session -------------------------------------------------------------------


def test_a_two_day_course_is_two_events_of_one_day_each_in_the_year_feed(
    app, client, two_day
) -> None:
    response = client.get("/calendar/2027.ics")
    assert response.status_code == 200
    calendar, events = parse(response.data)

    assert str(calendar["method"]) == "PUBLISH"
    assert uids(events) == [f"course-{two_day.id}-1@{HOST}", f"course-{two_day.id}-2@{HOST}"]
    assert_within_one_day(events)
    for number, e in enumerate(events, start=1):
        assert str(e["related-to"]) == f"course-{two_day.id}@{HOST}"
        assert int(e["sequence"]) == two_day.calendar_sequence == 3
        assert str(e["summary"]) == day_label(app, "CP 실무자 과정", number, 2)
        assert str(e["status"]) == "CONFIRMED"
        assert str(e["location"]) == two_day.venue
        assert str(e["url"]) == f"http://{HOST}/courses/{two_day.id}"
        assert "수출통제 제도의 기본" in str(e["description"])
        assert e.decoded("dtstamp") and e.decoded("last-modified")
    sessions = attendance.sessions_of(two_day.id)
    assert [e.decoded("dtstart") for e in events] == [s.starts_at for s in sessions]


def test_a_one_day_course_is_one_event_without_a_day_label(client, app) -> None:
    course = make_course(title="전략물자 판정 실무")
    publish_year(2027)
    _, events = parse(client.get("/calendar/2027.ics").data)
    assert uids(events) == [f"course-{course.id}-1@{HOST}"]
    assert str(events[0]["summary"]) == "전략물자 판정 실무"


def test_a_course_without_session_rows_gets_the_sessions_its_dates_plan(client) -> None:
    start = datetime(2027, 3, 11, 10, 0)
    course = make_course(
        starts=start, ends_at=local_to_utc(start + timedelta(days=1, hours=7)), hours=12
    )
    publish_year(2027)
    assert attendance.sessions_of(course.id) == []
    _, events = parse(client.get("/calendar/2027.ics").data)
    assert uids(events) == [f"course-{course.id}-1@{HOST}", f"course-{course.id}-2@{HOST}"]
    assert_within_one_day(events)


def test_sessions_of_many_courses_load_in_one_query(app) -> None:
    courses = [make_two_day_course(datetime(2027, 3, 2 + 7 * n, 10, 0)) for n in range(4)]
    courses.append(make_course(starts=datetime(2027, 5, 4, 10, 0)))  # no session rows
    db.session.expire_all()
    courses = list(db.session.execute(select(Course).order_by(Course.id)).scalars())
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        data = exports.calendar_ics(2027, courses)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len([s for s in statements if "course_sessions" in s]) == 1
    assert len(statements) == 1
    _, events = parse(data)
    assert len(events) == 4 * 2 + 1


def test_uids_keep_the_days_when_a_reschedule_rebuilds_the_sessions(app, two_day) -> None:
    before = {str(e["uid"]): e.decoded("dtstart") for e in parse(_year_feed(two_day))[1]}
    old_ids = {s.id for s in attendance.sessions_of(two_day.id)}

    course = db.session.get(Course, two_day.id)
    course.starts_at += timedelta(days=7)
    course.ends_at += timedelta(days=7)
    attendance.reset_sessions(course)
    db.session.commit()

    assert old_ids.isdisjoint(s.id for s in attendance.sessions_of(course.id))
    after = {str(e["uid"]): e.decoded("dtstart") for e in parse(_year_feed(course))[1]}
    assert after.keys() == before.keys()
    assert all(after[uid] - before[uid] == timedelta(days=7) for uid in before)


def _year_feed(course: Course) -> bytes:
    return exports.calendar_ics(2027, [db.session.get(Course, course.id)])


def test_the_uid_host_is_base_urls_not_the_server_name(app, two_day) -> None:
    app.config.update(BASE_URL="https://edu.example.org/desk", SERVER_NAME="other.example")
    with app.test_request_context():
        _, events = parse(exports.calendar_ics(2027, [db.session.get(Course, two_day.id)]))
    assert {str(e["uid"]).rpartition("@")[2] for e in events} == {"edu.example.org"}
    assert str(events[0]["url"]) == f"https://edu.example.org/desk/courses/{two_day.id}"


def test_a_cancelled_course_stays_in_the_year_feed_as_cancelled(client, two_day) -> None:
    course = db.session.get(Course, two_day.id)
    course.status = CourseStatus.CANCELLED
    course.cancel_reason = "강사 사정"
    db.session.commit()
    _, events = parse(client.get("/calendar/2027.ics").data)
    assert [str(e["status"]) for e in events] == ["CANCELLED", "CANCELLED"]
    assert "강사 사정" in str(events[0]["description"])


# --- The upcoming feed -----------------------------------------------------------------------


def test_the_upcoming_feed_lists_only_upcoming_public_published_courses(client) -> None:
    upcoming = make_two_day_course(soon(30), title="예정 과정")
    make_course(starts=soon(-30), title="지난 과정")
    make_course(starts=soon(20), title="초안 과정", status=CourseStatus.DRAFT)
    make_course(starts=soon(21), title="취소 과정", status=CourseStatus.CANCELLED)
    make_course(starts=soon(22), title="기업 전용 과정", private=True)

    response = client.get("/calendar/upcoming.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar, events = parse(response.data)
    assert str(calendar["method"]) == "PUBLISH"
    assert uids(events) == [f"course-{upcoming.id}-1@{HOST}", f"course-{upcoming.id}-2@{HOST}"]
    assert_within_one_day(events)
    assert response.headers["Cache-Control"] in ("public, max-age=3600", "max-age=3600, public")


def test_upcoming_ics_and_year_ics_are_distinct_routes(app) -> None:
    urls = app.url_map.bind(HOST)
    assert urls.match("/calendar/upcoming.ics")[0] == "courses.upcoming_feed"
    assert urls.match("/calendar/2027.ics") == ("courses.calendar_ics", {"year": 2027})
    assert urls.match("/calendar/personal/abc.ics") == (
        "courses.personal_feed",
        {"token": "abc"},
    )


# --- Invitations -------------------------------------------------------------------------------


def _invitation(course: Course, method: str, **extra) -> bytes:
    return exports.invitation_ics(
        db.session.get(Course, course.id),
        method=method,
        attendee_email="kim@example.com",
        attendee_name="김수출",
        **extra,
    )


def test_a_request_invites_the_attendee_to_every_session_from_the_institute(app, two_day) -> None:
    with app.test_request_context():
        calendar, events = parse(_invitation(two_day, "REQUEST"))
    assert str(calendar["method"]) == "REQUEST"
    assert uids(events) == [f"course-{two_day.id}-1@{HOST}", f"course-{two_day.id}-2@{HOST}"]
    assert_within_one_day(events)
    for e in events:
        assert str(e["organizer"]) == f"mailto:{app.config['MAIL_DEFAULT_SENDER']}"
        assert e["organizer"].params["CN"] == app.config["INSTITUTE_NAME"]
        assert str(e["attendee"]) == "mailto:kim@example.com"
        assert e["attendee"].params["CN"] == "김수출"
        assert e["attendee"].params["PARTSTAT"] == "NEEDS-ACTION"
        assert int(e["sequence"]) == 3
        assert str(e["status"]) == "CONFIRMED"
        assert e.decoded("dtstamp")


def test_a_cancel_withdraws_the_same_uids_with_the_same_sequence(app, two_day) -> None:
    with app.test_request_context():
        _, requested = parse(_invitation(two_day, "REQUEST"))
        calendar, cancelled = parse(_invitation(two_day, "CANCEL"))
    assert str(calendar["method"]) == "CANCEL"
    assert uids(cancelled) == uids(requested)
    for e in cancelled:
        assert str(e["status"]) == "CANCELLED"
        assert int(e["sequence"]) == 3
        assert str(e["organizer"]).startswith("mailto:")
        assert str(e["attendee"]) == "mailto:kim@example.com"


def test_an_invitation_is_a_request_or_a_cancel(app, two_day) -> None:
    with app.test_request_context():
        with pytest.raises(ValueError):
            _invitation(two_day, "PUBLISH")
        with pytest.raises(ValueError):
            _invitation(two_day, "REQUEST", dropped_ordinals=[3])


def _content_type(value: str):
    return policy.default.header_factory("Content-Type", value)


def test_a_cancelled_course_mail_carries_one_cancel_file(app, two_day) -> None:
    with app.test_request_context():
        attachments = exports.invitation_attachments(
            db.session.get(Course, two_day.id),
            cancelled=True,
            attendee_email="kim@example.com",
            attendee_name=None,
        )
    assert [a.filename for a in attachments] == [f"course-{two_day.id}-cancel.ics"]
    content_type = _content_type(attachments[0].content_type)
    assert content_type.content_type == "text/calendar"
    assert content_type.params == {"charset": "utf-8", "method": "CANCEL"}
    calendar, events = parse(attachments[0].data)
    assert str(calendar["method"]) == "CANCEL"
    assert len(events) == 2
    assert {str(e["status"]) for e in events} == {"CANCELLED"}
    assert all("CN" not in e["attendee"].params for e in events)


def test_a_changed_course_mail_carries_a_request_and_cancels_the_days_that_are_gone(
    app, two_day
) -> None:
    with app.test_request_context():
        attachments = exports.invitation_attachments(
            db.session.get(Course, two_day.id),
            cancelled=False,
            attendee_email="kim@example.com",
            attendee_name="김수출",
            previous_session_count=3,
        )
    assert [a.filename for a in attachments] == [
        f"course-{two_day.id}.ics",
        f"course-{two_day.id}-cancel.ics",
    ]
    assert [_content_type(a.content_type).params["method"] for a in attachments] == [
        "REQUEST",
        "CANCEL",
    ]
    request_calendar, requested = parse(attachments[0].data)
    cancel_calendar, dropped = parse(attachments[1].data)
    assert str(request_calendar["method"]) == "REQUEST"
    assert str(cancel_calendar["method"]) == "CANCEL"
    assert len(requested) == 2
    assert uids(dropped) == [f"course-{two_day.id}-3@{HOST}"]
    assert str(dropped[0]["status"]) == "CANCELLED"
    assert int(dropped[0]["sequence"]) == 3
    assert str(dropped[0]["attendee"]) == "mailto:kim@example.com"


@pytest.mark.parametrize("previous", [None, 1, 2])
def test_a_mail_without_dropped_days_carries_only_the_request(app, two_day, previous) -> None:
    with app.test_request_context():
        attachments = exports.invitation_attachments(
            db.session.get(Course, two_day.id),
            cancelled=False,
            attendee_email="kim@example.com",
            attendee_name="김수출",
            previous_session_count=previous,
        )
    assert [a.filename for a in attachments] == [f"course-{two_day.id}.ics"]
    assert attachments[0].content_type == "text/calendar; charset=utf-8; method=REQUEST"


# --- The personal feed -----------------------------------------------------------------------


TOKEN_IN_PAGE = re.compile(r'value="http://localhost/calendar/personal/([A-Za-z0-9_-]+)\.ics"')


def _create_feed(client) -> str:
    response = post_form(client, "/calendar/personal", follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    match = TOKEN_IN_PAGE.search(page)
    assert match, page[:3000]
    token = match.group(1)
    assert f"webcal://localhost/calendar/personal/{token}.ics" in page
    return token


def test_the_personal_feed_lists_the_learners_seats_and_stops_when_revoked(app, client) -> None:
    learner, other = make_user(Role.LEARNER), make_user(Role.LEARNER)
    seat = make_two_day_course(soon(14), title="내 과정")
    cancelled = make_course(starts=soon(21), title="취소된 내 과정")
    waiting = make_course(starts=soon(28), title="대기 중인 과정")
    given_up = make_course(starts=soon(35), title="포기한 과정")
    private = make_course(starts=soon(40), title="우리 회사 과정", private=True)
    not_mine = make_course(starts=soon(42), title="남의 과정")
    for course in (seat, cancelled, private):
        enrol(course, learner)
    enrol(waiting, learner, EnrollmentStatus.WAITING)
    enrol(given_up, learner, EnrollmentStatus.CANCELLED)
    enrol(not_mine, other)
    db.session.get(Course, cancelled.id).status = CourseStatus.CANCELLED
    db.session.commit()

    login(client, learner.email)
    assert 'id="calendar-feed"' in client.get("/me/").get_data(as_text=True)
    token = _create_feed(client)

    feed = app.test_client().get(f"/calendar/personal/{token}.ics")  # a calendar app
    assert feed.status_code == 200
    assert "private" in feed.headers["Cache-Control"]
    calendar, events = parse(feed.data)
    assert str(calendar["method"]) == "PUBLISH"
    status = {str(e["uid"]): str(e["status"]) for e in events}
    assert status == {
        f"course-{seat.id}-1@{HOST}": "CONFIRMED",
        f"course-{seat.id}-2@{HOST}": "CONFIRMED",
        f"course-{cancelled.id}-1@{HOST}": "CANCELLED",
        f"course-{private.id}-1@{HOST}": "CONFIRMED",
    }
    assert_within_one_day(events)

    post_form(client, "/calendar/personal/revoke")
    assert app.test_client().get(f"/calendar/personal/{token}.ics").status_code == 404
    assert db.session.execute(select(CalendarFeedToken)).scalars().all() == []
    page = client.get("/me/").get_data(as_text=True)
    assert token not in page and "/calendar/personal/" not in page

    again = _create_feed(client)
    assert again != token
    assert app.test_client().get(f"/calendar/personal/{token}.ics").status_code == 404
    assert app.test_client().get(f"/calendar/personal/{again}.ics").status_code == 200


def test_creating_the_link_again_replaces_the_old_one(app, client) -> None:
    login(client, make_user(Role.LEARNER).email)
    first = _create_feed(client)
    second = _create_feed(client)
    assert second != first
    assert app.test_client().get(f"/calendar/personal/{first}.ics").status_code == 404
    assert app.test_client().get(f"/calendar/personal/{second}.ics").status_code == 200
    assert len(db.session.execute(select(CalendarFeedToken)).scalars().all()) == 1


@pytest.mark.parametrize("token", ["no-such-token", "x" * 65, "%00abc"])
def test_an_unknown_personal_feed_token_is_404(client, token: str) -> None:
    assert client.get(f"/calendar/personal/{token}.ics").status_code == 404


def test_a_closed_account_has_no_feed(app, client) -> None:
    learner = make_user(Role.LEARNER)
    login(client, learner.email)
    token = _create_feed(client)
    db.session.get(type(learner), learner.id).active = False
    db.session.commit()
    assert app.test_client().get(f"/calendar/personal/{token}.ics").status_code == 404


@pytest.mark.parametrize("role", [Role.COMPANY, Role.INSTRUCTOR, Role.STAFF])
def test_only_learners_create_a_personal_feed(client, role: Role) -> None:
    login(client, make_user(role).email)
    assert post_form(client, "/calendar/personal").status_code == 403
    assert db.session.execute(select(CalendarFeedToken)).scalars().all() == []


def test_the_data_export_says_a_feed_exists_without_its_secret_and_erasure_deletes_it(
    app, client
) -> None:
    from courses import privacy

    learner = make_user(Role.LEARNER)
    login(client, learner.email)
    token = _create_feed(client)
    response = client.get("/me/data.json")
    assert response.get_json()["calendar_feed"]["exists"] is True
    assert token not in response.get_data(as_text=True)

    privacy.erase(db.session.get(type(learner), learner.id))
    db.session.commit()
    assert db.session.execute(select(CalendarFeedToken)).scalars().all() == []
    assert privacy.export(db.session.get(type(learner), learner.id))["calendar_feed"] is None


# --- Subscriptions from the calendar page -------------------------------------------------------


def test_the_calendar_page_offers_webcal_subscriptions(client, two_day) -> None:
    page = client.get("/calendar/2027").get_data(as_text=True)
    assert 'href="webcal://localhost/calendar/2027.ics"' in page
    assert 'href="webcal://localhost/calendar/upcoming.ics"' in page
    assert 'href="/calendar/2027.ics"' in page  # the download stays beside it


# --- Conditional GET on every feed ---------------------------------------------------------------


@pytest.fixture
def feeds(app, client, two_day) -> dict[str, str]:
    """The URL of every feed, each with something in it."""
    upcoming = make_course(starts=soon(10))
    learner = make_user(Role.LEARNER)
    enrol(upcoming, learner)
    db.session.add(
        Announcement(course_id=upcoming.id, title="교육 안내", body="본문", published_at=utcnow())
    )
    db.session.commit()
    login(client, learner.email)
    token = _create_feed(client)
    post_form(client, "/auth/logout")
    return {
        "year": "/calendar/2027.ics",
        "upcoming": "/calendar/upcoming.ics",
        "personal": f"/calendar/personal/{token}.ics",
        "atom": "/announcements.atom",
        "leaflet": "/calendar/2027.pdf",
    }


@pytest.mark.parametrize("name", ["year", "upcoming", "personal", "atom", "leaflet"])
def test_every_feed_answers_304_while_nothing_changed(app, feeds, name: str) -> None:
    client = app.test_client()
    url = feeds[name]
    first = client.get(url)
    assert first.status_code == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag and modified
    assert "max-age=3600" in first.headers["Cache-Control"]
    assert ("private" if name == "personal" else "public") in first.headers["Cache-Control"]

    assert len(first.headers.getlist("Date")) <= 1  # the server adds the one Date
    assert client.get(url).headers["ETag"] == etag  # the same data gives the same bytes
    by_etag = client.get(url, headers={"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.data == b""
    by_date = client.get(url, headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    stale = client.get(url, headers={"If-None-Match": '"stale"', "If-Modified-Since": modified})
    assert stale.status_code == 200
    assert stale.data == first.data


def test_a_change_gives_a_new_etag_and_no_earlier_last_modified(app, feeds, two_day) -> None:
    client = app.test_client()
    first = client.get(feeds["year"])
    course = db.session.get(Course, two_day.id)
    course.venue = "부산 해운대구 교육장"
    db.session.commit()
    second = client.get(feeds["year"], headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.headers["ETag"] != first.headers["ETag"]
    assert "부산 해운대구 교육장" in second.get_data(as_text=True)
    assert parse_date(second.headers["Last-Modified"]) >= parse_date(first.headers["Last-Modified"])


def test_a_signed_in_persons_feed_is_not_stored_by_shared_caches(app, client, two_day) -> None:
    login(client, make_user(Role.STAFF).email)
    response = client.get("/calendar/2027.ics")
    assert "private" in response.headers["Cache-Control"]
    assert "public" not in response.headers["Cache-Control"]
    assert "Cookie" in response.headers["Vary"]


def test_session_rows_are_the_truth_when_they_differ_from_the_dates(client, two_day) -> None:
    """Sessions already attended are not rebuilt; the feed shows them as they are."""
    first = (
        db.session.execute(select(CourseSession).where(CourseSession.course_id == two_day.id))
        .scalars()
        .first()
    )
    first.ends_at = first.starts_at + timedelta(hours=3)
    db.session.commit()
    _, events = parse(client.get("/calendar/2027.ics").data)
    assert events[0].decoded("dtend") - events[0].decoded("dtstart") == timedelta(hours=3)
