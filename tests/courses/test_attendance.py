"""Sessions, attendance by roster and by check-in code, completion by the 80 % rule."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.accounts.models import Role
from app.core.audit import AuditEntry
from app.core.extensions import db
from app.core.timeutil import local_to_utc
from courses import attendance, enrolment
from courses.models import AttendanceStatus, Enrollment
from tests.conftest import login, post_form
from tests.factories import make_course, make_two_day_course, make_user


def enrol(course, count: int) -> list[Enrollment]:
    result = []
    for _ in range(count):
        learner = make_user()
        result.append(enrolment.enroll(course, learner, by=learner).enrollment)
    db.session.commit()
    return result


@pytest.mark.parametrize(
    ("attended", "total", "threshold", "completes"),
    [
        ("12", "12", 80, True),
        ("9.6", "12", 80, True),
        ("9.5", "12", 80, False),
        ("0", "12", 80, False),
        ("6", "12", 50, True),
        ("6", "0", 80, False),
    ],
)
def test_the_completion_rule(attended, total, threshold, completes) -> None:
    assert attendance.meets_rule(Decimal(attended), Decimal(total), threshold) is completes


def test_default_sessions_split_the_hours_per_day(app) -> None:
    course = make_two_day_course(datetime(2027, 3, 4, 10, 0))  # Thursday and Friday
    sessions = attendance.sessions_of(course.id)
    assert [s.hours for s in sessions] == [Decimal("6"), Decimal("6")]
    assert [s.local_start.day for s in sessions] == [4, 5]


def test_the_instructor_marks_the_roster_in_one_form(client) -> None:
    teacher = make_user(Role.INSTRUCTOR)
    course = make_two_day_course(datetime.now() + timedelta(days=10), instructors=[teacher])
    a, b, c = enrol(course, 3)
    session = attendance.sessions_of(course.id)[0]
    login(client, teacher.email)
    page = client.get(f"/courses/{course.id}/sessions/{session.id}/attendance").get_data(
        as_text=True
    )
    assert session.checkin_code in page
    response = post_form(
        client,
        f"/courses/{course.id}/sessions/{session.id}/attendance",
        {f"e{a.id}": "present", f"e{b.id}": "late", f"e{c.id}": "absent"},
    )
    assert response.status_code == 302
    assert attendance.marks_for(session) == {
        a.id: AttendanceStatus.PRESENT,
        b.id: AttendanceStatus.LATE,
        c.id: AttendanceStatus.ABSENT,
    }


def test_an_invalid_mark_is_a_form_error_and_saves_nothing(client) -> None:
    teacher = make_user(Role.INSTRUCTOR)
    course = make_two_day_course(datetime.now() + timedelta(days=10), instructors=[teacher])
    (a,) = enrol(course, 1)
    session = attendance.sessions_of(course.id)[0]
    login(client, teacher.email)
    response = post_form(
        client, f"/courses/{course.id}/sessions/{session.id}/attendance", {f"e{a.id}": "asleep"}
    )
    assert response.status_code == 200
    assert attendance.marks_for(session) == {}


def test_check_in_works_only_during_the_session_with_the_right_code(app) -> None:
    start = datetime(2027, 3, 4, 10, 0)
    course = make_two_day_course(start)
    learner = make_user()
    db.session.add(Enrollment(course_id=course.id, learner_id=learner.id, status="enrolled"))
    db.session.commit()
    session = attendance.sessions_of(course.id)[0]
    with pytest.raises(attendance.AttendanceError):
        attendance.check_in(
            course, learner, session.checkin_code, now=local_to_utc(start - timedelta(hours=2))
        )
    with pytest.raises(attendance.AttendanceError):
        attendance.check_in(course, learner, "WRONG1", now=local_to_utc(start))
    mark = attendance.check_in(
        course,
        learner,
        session.checkin_code.lower(),
        now=local_to_utc(start + timedelta(minutes=5)),
    )
    assert mark.status == AttendanceStatus.PRESENT
    second_day = attendance.sessions_of(course.id)[1]
    late = attendance.check_in(
        course, learner, second_day.checkin_code, now=second_day.starts_at + timedelta(minutes=40)
    )
    assert late.status == AttendanceStatus.LATE


def test_closing_the_course_records_completion_by_attended_hours(app) -> None:
    course = make_two_day_course(datetime.now() - timedelta(days=5))
    full, half = enrol_past(course, 2)
    staff = make_user(Role.STAFF)
    first, second = attendance.sessions_of(course.id)
    attendance.record_attendance(
        first, {full.id: AttendanceStatus.PRESENT, half.id: AttendanceStatus.PRESENT}, by=staff
    )
    attendance.record_attendance(
        second, {full.id: AttendanceStatus.LATE, half.id: AttendanceStatus.ABSENT}, by=staff
    )

    summary = attendance.close_course(course, by=staff)

    assert (summary.completed, summary.not_completed) == (1, 1)
    db.session.expire_all()
    assert db.session.get(Enrollment, full.id).completed is True
    assert db.session.get(Enrollment, half.id).completed is False
    assert db.session.get(Enrollment, half.id).attended_hours == Decimal("6")
    with pytest.raises(attendance.AttendanceError):
        attendance.close_course(course, by=staff)


def enrol_past(course, count: int) -> list[Enrollment]:
    """Seat holders of a course that has already run (enrolment itself is closed by then)."""
    rows = []
    for _ in range(count):
        row = Enrollment(course_id=course.id, learner_id=make_user().id, status="enrolled")
        db.session.add(row)
        rows.append(row)
    course.seats_taken = count
    db.session.commit()
    return rows


def test_a_course_cannot_be_closed_before_it_ends(app) -> None:
    course = make_two_day_course(datetime.now() + timedelta(days=3))
    with pytest.raises(attendance.AttendanceError):
        attendance.close_course(course, by=make_user(Role.STAFF))


def test_staff_override_completion_with_a_reason(client) -> None:
    course = make_two_day_course(datetime.now() - timedelta(days=5))
    (row,) = enrol_past(course, 1)
    staff = make_user(Role.STAFF)
    attendance.close_course(course, by=staff)
    db.session.commit()
    login(client, staff.email)
    post_form(
        client, f"/courses/{course.id}/roster/{row.id}/completion", {"completed": "1", "reason": ""}
    )
    db.session.expire_all()
    assert db.session.get(Enrollment, row.id).completed is False
    post_form(
        client,
        f"/courses/{course.id}/roster/{row.id}/completion",
        {"completed": "1", "reason": "병가 증빙 제출"},
    )
    db.session.expire_all()
    assert db.session.get(Enrollment, row.id).completed is True
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "completion.override")
    ).scalar_one()
    assert entry.details["reason"] == "병가 증빙 제출"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example"]
)
def test_the_check_in_form_never_sends_the_learner_to_another_site(client, target) -> None:
    course = make_course(starts=datetime.now() + timedelta(days=3))
    login(client, make_user().email)
    response = post_form(client, f"/courses/{course.id}/check-in", {"code": "", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/me/"


def test_the_check_in_form_returns_to_the_course_page(client) -> None:
    course = make_course(starts=datetime.now() + timedelta(days=3))
    login(client, make_user().email)
    page = f"/courses/{course.id}"
    response = post_form(client, f"{page}/check-in", {"code": "", "next": page})
    assert response.headers["Location"] == page
