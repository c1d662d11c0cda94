"""A cancelled or rescheduled course reaches everyone in it: one mail per seat holder and
per waiting person, with the reason and the calendar file that withdraws or updates
what they imported (the same UIDs, a higher SEQUENCE)."""

from __future__ import annotations

from datetime import date, datetime
from email import message_from_bytes, policy

import icalendar
import vobject
from sqlalchemy import select

from app.core import outbox
from app.core.accounts.models import Role
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from app.core.timeutil import to_local
from courses import enrolment
from courses.models import Course, EnrollmentStatus
from tests.conftest import login, post_form
from tests.factories import make_two_day_course, make_user, publish_year


def _course_with_people(seats: int = 3, waiting: int = 2) -> tuple[Course, list, list]:
    staff = make_user(Role.STAFF, email="staff@example.com", name="박담당")
    publish_year(2027, by=staff)
    course = make_two_day_course(datetime(2027, 4, 14, 10, 0), capacity=seats)
    holders, waiters = [], []
    for number in range(seats + waiting):
        learner = make_user(email=f"learner{number}@example.com", name=f"교육생{number}")
        result = enrolment.enroll(course, learner, by=learner)
        (holders if result.enrollment.status == EnrollmentStatus.ENROLLED else waiters).append(
            learner
        )
    db.session.commit()
    assert (len(holders), len(waiters)) == (seats, waiting)
    return course, holders, waiters


def _mail(kind: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        ).scalars()
    )


def _calendar_parts(message: OutboxMessage):
    data, _ = outbox.wire_bytes(outbox.build_email(message))
    parsed = message_from_bytes(data, policy=policy.default)
    assert not parsed.defects and parsed["Date"]
    return [
        part for part in parsed.iter_attachments() if part.get_content_type() == "text/calendar"
    ]


def _events(ics: str) -> list:
    return list(icalendar.Calendar.from_ical(ics).walk("VEVENT"))


def test_cancelling_a_course_mails_every_seat_holder_and_waiting_person_once(app, client) -> None:
    course, holders, waiters = _course_with_people()
    before = {str(event["UID"]): int(event["SEQUENCE"]) for event in _reminder_events(app, course)}
    login(client, "staff@example.com")

    response = post_form(
        client, f"/courses/{course.id}/cancellation", {"reason": "강사 사정으로 부득이 취소합니다."}
    )

    assert response.status_code in (302, 303)
    mails = _mail("course_cancelled")
    assert sorted(m.to_address for m in mails) == sorted(p.email for p in holders + waiters)
    for message in mails:
        assert "강사 사정으로 부득이 취소합니다." in message.body
        assert "강사 사정으로 부득이 취소합니다." in message.html_body
        assert "박담당" in message.body  # standard 11: the staff member who cancelled
        with app.app_context():
            (part,) = _calendar_parts(message)
        assert part.get_param("method") == "CANCEL" and part.get_param("charset") == "utf-8"
        ics = part.get_content()
        calendar = icalendar.Calendar.from_ical(ics)
        assert str(calendar["METHOD"]) == "CANCEL"
        events = _events(ics)
        assert {str(event["UID"]) for event in events} == set(before)
        for event in events:
            assert str(event["STATUS"]) == "CANCELLED"
            assert int(event["SEQUENCE"]) > before[str(event["UID"])]
            assert message.to_address in str(event["ATTENDEE"])
        independent = vobject.readOne(ics)
        assert independent.method.value == "CANCEL"
        assert len(independent.vevent_list) == len(events) == 2

    # A second cancellation is refused, and no mail goes out twice.
    post_form(client, f"/courses/{course.id}/cancellation", {"reason": "다시"})
    assert len(_mail("course_cancelled")) == len(holders + waiters)


def _reminder_events(app, course: Course) -> list:
    """What a seat holder imported from the reminder before the change."""
    from courses import exports

    with app.test_request_context():
        (attachment,) = exports.invitation_attachments(
            db.session.get(Course, course.id),
            cancelled=False,
            attendee_email="learner0@example.com",
            attendee_name="교육생0",
        )
    return _events(attachment.data.decode())


def test_moving_a_course_mails_everyone_an_update_with_a_higher_sequence(app, client) -> None:
    course, holders, waiters = _course_with_people(seats=2, waiting=1)
    before = {str(event["UID"]): int(event["SEQUENCE"]) for event in _reminder_events(app, course)}
    login(client, "staff@example.com")
    from tests.courses.test_course_management import course_form

    response = post_form(
        client,
        f"/courses/{course.id}/edit",
        course_form(
            title=course.title,
            venue="대전 컨벤션센터",
            starts_at="2027-04-21T10:00",
            ends_at="2027-04-22T17:00",
            hours="12",
            capacity="2",
            change_reason="교육장 공사로 장소와 날짜를 옮깁니다.",
        ),
    )

    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    mails = _mail("course_changed")
    assert sorted(m.to_address for m in mails) == sorted(p.email for p in holders + waiters)
    waiting_addresses = {person.email for person in waiters}
    for message in mails:
        assert "교육장 공사로 장소와 날짜를 옮깁니다." in message.body
        assert "대전 컨벤션센터" in message.body
        with app.app_context():
            parts = _calendar_parts(message)
        if message.to_address in waiting_addresses:
            assert parts == []  # no seat, nothing to put in a calendar
            continue
        (part,) = parts
        assert part.get_param("method") == "REQUEST"
        events = _events(part.get_content())
        assert {str(event["UID"]) for event in events} == set(before)
        for event in events:
            assert int(event["SEQUENCE"]) > before[str(event["UID"])]
            assert str(event["LOCATION"]) == "대전 컨벤션센터"
            start, end = event.decoded("DTSTART"), event.decoded("DTEND")
            assert start.date() == end.date()  # one event per session, not one long block
        days = sorted(to_local(event.decoded("DTSTART")).date() for event in events)
        assert days == [date(2027, 4, 21), date(2027, 4, 22)]


def test_saving_a_course_without_moving_it_mails_nobody(app, client) -> None:
    course, _, _ = _course_with_people(seats=1, waiting=0)
    login(client, "staff@example.com")
    from tests.courses.test_course_management import course_form

    local_start = course.local_start.strftime("%Y-%m-%dT%H:%M")
    local_end = course.local_end.strftime("%Y-%m-%dT%H:%M")
    post_form(
        client,
        f"/courses/{course.id}/edit",
        course_form(
            title="제목만 고칩니다",
            venue=course.venue,
            starts_at=local_start,
            ends_at=local_end,
            hours="12",
            capacity="5",
        ),
    )
    assert _mail("course_changed") == []
    assert db.session.get(Course, course.id).calendar_sequence == 0
