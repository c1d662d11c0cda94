"""Fault injection (issue #10): an action that fails at its last step leaves nothing behind.

Each test drives one action through its real route as the real role, with the function
that runs last in the action wrapped so that it does its work, flushes, and then raises.
By then every row of the action has been written into the request's transaction (the
wrapper takes a snapshot there to prove it); the request must answer 500 and the
database, read afresh, must be exactly what it was before the POST: every table, every
row, ordered by primary key. The same action without the fault then changes the
database as expected, so the set-up really reaches the action.
"""

from __future__ import annotations

import functools
import pprint
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

import courses.enrolment
import courses.invitations
import courses.services
import visits.services
from app.core import audit
from app.core.accounts.models import Role, User
from app.core.audit import AuditEntry
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from certificates.models import Certificate, CertificateStatus
from courses import attendance, enrolment
from courses.models import (
    Announcement,
    AttendanceStatus,
    CalendarYear,
    Course,
    CourseInvitation,
    CourseStatus,
    Enrollment,
    EnrollmentStatus,
    Subscriber,
)
from tests.conftest import login, post_form
from tests.factories import PASSWORD, make_course, make_two_day_course, make_user
from visits.models import OnsiteRequest, Quote, RequestState, Signup

Snapshot = dict[str, list[tuple]]


# --- The database before and after ----------------------------------------------------------


def snapshot(connection=None) -> Snapshot:
    """Every row of every table, ordered by primary key; a fresh connection by default (so
    only committed data is seen), or the given one (to look inside a transaction)."""
    if connection is None:
        with db.engine.connect() as fresh:
            return snapshot(fresh)
    tables: Snapshot = {}
    for table in db.metadata.sorted_tables:
        key = list(table.primary_key.columns)
        rows = [tuple(row) for row in connection.execute(select(table).order_by(*key))]
        tables[table.name] = rows if key else sorted(rows, key=repr)
    return tables


def differences(before: Snapshot, after: Snapshot) -> dict[str, dict[str, Any]]:
    """Per table that differs, by column name: the rows added, the rows removed, and for a
    row whose primary key is in both, the columns that changed as (before, after)."""
    result = {}
    for table in db.metadata.sorted_tables:
        old, new = before.get(table.name, []), after.get(table.name, [])
        if old == new:
            continue
        names = [column.name for column in table.columns]
        key = [names.index(column.name) for column in table.primary_key.columns]

        def by_key(rows, key=key):
            return {tuple(row[i] for i in key) if key else repr(row): row for row in rows}

        old_rows, new_rows = by_key(old), by_key(new)
        result[table.name] = {
            "added": [
                dict(zip(names, new_rows[k], strict=True))
                for k in new_rows.keys() - old_rows.keys()
            ],
            "removed": [
                dict(zip(names, old_rows[k], strict=True))
                for k in old_rows.keys() - new_rows.keys()
            ],
            "changed": {
                k: {
                    name: (was, now)
                    for name, was, now in zip(names, old_rows[k], new_rows[k], strict=True)
                    if was != now
                }
                for k in old_rows.keys() & new_rows.keys()
                if old_rows[k] != new_rows[k]
            },
        }
    return result


def assert_unchanged(before: Snapshot) -> None:
    """Read the database again in a fresh session and require it to be exactly `before`."""
    db.session.remove()
    left_behind = differences(before, snapshot())
    assert not left_behind, "the failed action left changes behind:\n" + pprint.pformat(
        left_behind, width=120
    )


def count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


# --- The fault ------------------------------------------------------------------------------


class InjectedFault(RuntimeError):
    """The failure forced at the last step of an action."""


@dataclass
class Fault:
    """What the broken function saw: how often it failed, and the database inside the
    failing transaction at that moment."""

    failures: int = 0
    inside: Snapshot = field(default_factory=dict)


def fail_after(
    patch: pytest.MonkeyPatch,
    owner: Any,
    name: str,
    when: Callable[..., bool] = lambda *args, **kwargs: True,
) -> Fault:
    """Replace `owner.name` by a version that runs the original and, when `when(...)` holds
    for the call, flushes, records the transaction's view of the database and raises."""
    fault = Fault()
    original = getattr(owner, name)

    @functools.wraps(original, updated=())
    def broken(*args, **kwargs):
        result = original(*args, **kwargs)
        if when(*args, **kwargs):
            fault.failures += 1
            db.session.flush()
            fault.inside = snapshot(db.session.connection())
            raise InjectedFault(f"{name} failed after it ran")
        return result

    patch.setattr(owner, name, broken)
    return fault


def fails_on_audit(action: str) -> Callable[..., bool]:
    return lambda recorded, *args, **kwargs: recorded == action


@pytest.fixture
def patch(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A monkeypatch scope the test ends itself before it runs the action without fault."""
    with monkeypatch.context() as scope:
        yield scope


def post_failing(client, url: str, data: dict | None, fault: Fault, before: Snapshot) -> None:
    """POST the action with the fault in place: a 500 after the last step really ran, with
    the action's rows written in the transaction, and nothing of it left afterwards."""
    response = post_form(client, url, data)
    assert response.status_code == 500, response.get_data(as_text=True)[:2000]
    assert fault.failures == 1, "the action never reached the step that was broken"
    assert differences(before, fault.inside), "the action had written nothing when it failed"
    assert_unchanged(before)


def changed_tables(before: Snapshot, fault: Fault) -> set[str]:
    return set(differences(before, fault.inside))


# --- Scheduling an on-site request -------------------------------------------------------------


def onsite_request(contact: User, state: RequestState) -> OnsiteRequest:
    details = visits.services.RequestDetails(
        title="연구소 대상 전략물자 판정 실무",
        content="실습 위주로 진행해 주세요.",
        topics=[],
        preferred_dates=["4월 첫째 주", "4월 둘째 주"],
        address="경기 수원시 영통구 삼성로 1",
        region="gyeonggi",
        audience="practitioners",
        expected_headcount=12,
        venue_capacity=None,
        contact_name="오세훈",
        contact_phone="031-123-4567",
        contact_email="hr@hanbit.example.com",
    )
    request = visits.services.create_request(details, by=contact)
    request.state = state
    db.session.commit()
    return request


def test_scheduling_an_onsite_request_fails_whole(client, patch) -> None:
    contact = make_user(Role.COMPANY)
    staff = make_user(Role.STAFF, name="김하늘")
    teacher = make_user(Role.INSTRUCTOR)
    member = make_user(company=contact.company, email="member@hanbit.example.com")
    request = onsite_request(contact, RequestState.ACCEPTED)
    now = datetime.now().astimezone()
    for n in range(3):  # no account yet: each gets one, with an invitation mail
        db.session.add(
            Signup(
                request_id=request.id,
                name=f"연구원{n}",
                email=f"engineer{n}@hanbit.example.com",
                department="연구소",
                confirm_token=f"confirm-{n}",
                confirmed_at=now,
            )
        )
    db.session.add(
        Signup(
            request_id=request.id,
            name=member.name,
            email=member.email,
            user_id=member.id,
            confirm_token="confirm-member",
            confirmed_at=now,
        )
    )
    db.session.commit()
    request_id, staff_id = request.id, staff.id
    start = datetime.now() + timedelta(days=20)
    form = {
        "title": "한빛정밀 맞춤형 판정 실무",
        "content": "1교시 판정 실습",
        "starts_at": start.strftime("%Y-%m-%dT10:00"),
        "ends_at": start.strftime("%Y-%m-%dT16:00"),
        "hours": "5",
        "instructor_ids": [str(teacher.id)],
    }
    url = f"/visits/onsite/{request_id}/schedule"
    login(client, staff.email)

    # `schedule` ends with `_move` to SCHEDULED, whose last act is the mail to the company.
    fault = fail_after(
        patch,
        visits.services,
        "_mail_company",
        lambda request, *args, **kwargs: request.state == RequestState.SCHEDULED,
    )
    before = snapshot()
    post_failing(client, url, form, fault, before)
    assert {
        "courses",
        "course_instructors",
        "course_sessions",
        "enrollments",
        "users",
        "onsite_requests",
        "outbox",
        "audit_log",
    } <= changed_tables(before, fault)

    patch.undo()
    assert post_form(client, url, form).status_code == 302
    request = db.session.get(OnsiteRequest, request_id)
    assert request.state == RequestState.SCHEDULED and request.responsible_staff_id == staff_id
    course = db.session.get(Course, request.course_id)
    assert course.private and course.title == "한빛정밀 맞춤형 판정 실무"
    assert count(Enrollment, Enrollment.course_id == course.id) == 4
    assert count(User, User.email.like("engineer%@hanbit.example.com")) == 3
    assert count(OutboxMessage, OutboxMessage.to_address == "hr@hanbit.example.com") == 1


# --- Accepting a quote -------------------------------------------------------------------------


def test_accepting_a_quote_fails_whole(client, patch) -> None:
    contact = make_user(Role.COMPANY)
    staff = make_user(Role.STAFF)
    request = onsite_request(contact, RequestState.ACCEPTED)
    quote = visits.services.add_quote(
        request, [("강의료", 1_500_000), ("교재비", 200_000)], by=staff
    )
    db.session.commit()
    quote_id, url = quote.id, f"/visits/onsite/{request.id}/quotes/{quote.id}/accept"
    contact_id = contact.id
    login(client, contact.email)

    # `accept_quote` stamps the quote and ends with its audit entry.
    fault = fail_after(patch, audit, "record", fails_on_audit("onsite.quote_accept"))
    before = snapshot()
    post_failing(client, url, None, fault, before)
    assert {"onsite_quotes", "audit_log"} <= changed_tables(before, fault)

    patch.undo()
    assert post_form(client, url).status_code == 302
    quote = db.session.get(Quote, quote_id)
    assert quote.accepted_at is not None and quote.accepted_by_id == contact_id
    assert count(AuditEntry, AuditEntry.action == "onsite.quote_accept") == 1


# --- Closing a course with certificates ----------------------------------------------------------


def test_closing_a_course_with_certificates_fails_whole(client, patch) -> None:
    staff = make_user(Role.STAFF)
    starts = datetime.now() - timedelta(days=5)
    # Certificates are issued when the course closes.
    course = make_two_day_course(starts, requires_survey=False)
    seats = [
        Enrollment(course_id=course.id, learner_id=make_user().id, status="enrolled")
        for _ in range(3)
    ]
    db.session.add_all(seats)
    course.seats_taken = len(seats)
    db.session.commit()
    present, also_present, absent = (seat.id for seat in seats)
    for session in attendance.sessions_of(course.id):
        attendance.record_attendance(
            session,
            {
                present: AttendanceStatus.PRESENT,
                also_present: AttendanceStatus.PRESENT,
                absent: AttendanceStatus.ABSENT,
            },
            by=staff,
        )
    db.session.commit()
    course_id, url = course.id, f"/courses/{course.id}/close"
    login(client, staff.email)

    # `close_course` settles each learner's certificate, then audits "course.close" last.
    fault = fail_after(patch, audit, "record", fails_on_audit("course.close"))
    before = snapshot()
    post_failing(client, url, None, fault, before)
    assert {"courses", "enrollments", "certificates", "certificate_serials", "audit_log"} <= (
        changed_tables(before, fault)
    )
    assert len(fault.inside["certificates"]) == 2

    patch.undo()
    assert post_form(client, url).status_code == 302
    assert db.session.get(Course, course_id).closed_at is not None
    certified = set(
        db.session.execute(
            select(Certificate.enrollment_id).where(
                Certificate.course_id == course_id, Certificate.status == CertificateStatus.VALID
            )
        ).scalars()
    )
    assert certified == {present, also_present}
    assert db.session.get(Enrollment, absent).completed is False


# --- Deleting personal data ----------------------------------------------------------------------


def test_deleting_personal_data_fails_whole(app, client, patch) -> None:
    learner = make_user(name="김수출", email="kim@example.com", phone="010-1111-2222")
    waiting = make_user()
    course = make_course(starts=datetime.now() + timedelta(days=10), capacity=1)
    enrolment.enroll(course, learner, by=learner)
    enrolment.enroll(course, waiting, by=waiting)
    request = onsite_request(make_user(Role.COMPANY), RequestState.COLLECTING)
    db.session.add_all(
        [
            Subscriber(
                email="kim@example.com", token="s", confirmed_at=datetime.now().astimezone()
            ),
            Signup(
                request_id=request.id, name="김수출", email="kim@example.com", confirm_token="k"
            ),
        ]
    )
    db.session.commit()
    learner_id, course_id, waiting_id = learner.id, course.id, waiting.id
    login(client, learner.email)

    # `delete_personal_data` erases each feature's data, pseudonymises the account, and
    # audits "user.delete_personal_data" last.
    fault = fail_after(patch, audit, "record", fails_on_audit("user.delete_personal_data"))
    before = snapshot()
    post_failing(client, "/me/delete", {"password": PASSWORD}, fault, before)
    assert {
        "users",
        "enrollments",
        "outbox",
        "newsletter_subscribers",
        "onsite_signups",
        "audit_log",
    } <= changed_tables(before, fault)
    still = app.test_client()
    login(still, "kim@example.com")  # the account still works as before

    patch.undo()
    assert post_form(client, "/me/delete", {"password": PASSWORD}).status_code == 302
    gone = db.session.get(User, learner_id)
    assert gone.email != "kim@example.com" and gone.name != "김수출" and not gone.active
    assert enrolment.find_enrollment(course_id, learner_id).status == EnrollmentStatus.CANCELLED
    assert enrolment.find_enrollment(course_id, waiting_id).status == EnrollmentStatus.ENROLLED
    assert count(Subscriber) == 0
    assert count(Signup, Signup.email == "kim@example.com") == 0


# --- Bulk enrolment by a company -------------------------------------------------------------


def test_bulk_invitation_fails_whole(client, patch) -> None:
    contact = make_user(Role.COMPANY)
    make_user(company=contact.company, email="kim@hanbit.example.com")
    make_user(email="lee@other.example.com")
    course = make_course(starts=datetime.now() + timedelta(days=30), capacity=2)
    last = "second.hire@hanbit.example.com"
    form = {
        "addresses": "kim@hanbit.example.com, lee@other.example.com\n"
        f"new.hire@hanbit.example.com\n{last}"
    }
    url = f"/courses/{course.id}/company"
    login(client, contact.email)

    # `invite_employees` invites address after address; the last thing it does is invite
    # (and queue the mail of) the last address.
    fault = fail_after(
        patch,
        courses.invitations,
        "_invite",
        lambda course, company, by, email, name: email == last,
    )
    before = snapshot()
    post_failing(client, url, form, fault, before)
    assert {"course_invitations", "outbox"} <= changed_tables(before, fault)
    assert len(fault.inside["course_invitations"]) == 4

    patch.undo()
    assert post_form(client, url, form).status_code == 200
    assert count(CourseInvitation) == 4
    assert count(OutboxMessage, OutboxMessage.body.contains("/courses/invitations/")) == 4


def test_accepting_an_invitation_with_a_new_account_fails_whole(client, patch) -> None:
    contact = make_user(Role.COMPANY)
    course = make_course(starts=datetime.now() + timedelta(days=30))
    login(client, contact.email)
    post_form(client, f"/courses/{course.id}/company", {"addresses": "new@hanbit.example.com"})
    post_form(client, "/auth/logout")
    body = db.session.execute(select(OutboxMessage.body)).scalar_one()
    link = body[body.index("/courses/invitations/") :].split()[0]
    form = {
        "name": "신입",
        "password": "a long new password",
        "confirm": "a long new password",
        "consent_privacy": "y",
    }

    fault = fail_after(patch, courses.invitations, "_enrol")
    before = snapshot()
    post_failing(client, link, form, fault, before)
    assert {"users", "enrollments", "courses", "course_invitations"} <= changed_tables(
        before, fault
    )

    patch.undo()
    assert post_form(client, link, form).status_code == 302
    assert count(User, User.email == "new@hanbit.example.com") == 1


# --- Publishing a calendar ------------------------------------------------------------------------


def test_publishing_a_calendar_fails_whole(client, patch) -> None:
    staff = make_user(Role.STAFF)
    now = datetime.now()
    soon, within, later = (
        make_course(status=CourseStatus.DRAFT, starts=now + timedelta(days=days))
        for days in (5, 10, 40)
    )
    year = soon.year
    due = {c.id for c in (soon, within) if c.year == year}  # inside the announcement window
    drafts = {c.id for c in (soon, within, later) if c.year == year}
    now_aware = datetime.now().astimezone()
    db.session.add_all(
        [
            Subscriber(email="a@example.com", token="a", confirmed_at=now_aware),
            Subscriber(email="b@example.com", token="b", confirmed_at=now_aware),
            Subscriber(email="c@example.com", token="c"),  # never confirmed: no newsletter
        ]
    )
    db.session.commit()
    url, staff_id = f"/calendar/{year}/publish", staff.id
    login(client, staff.email)

    # `publish_calendar` publishes the year and its drafts, audits, and ends with
    # `announce_if_due`: the due courses' announcements and their newsletter mails.
    fault = fail_after(patch, courses.services, "announce_if_due")
    before = snapshot()
    post_failing(client, url, None, fault, before)
    assert {"calendar_years", "courses", "announcements", "outbox", "audit_log"} <= (
        changed_tables(before, fault)
    )
    assert len(fault.inside["announcements"]) == len(due)
    assert len(fault.inside["outbox"]) == 2 * len(due)

    patch.undo()
    assert post_form(client, url).status_code == 302
    assert db.session.get(CalendarYear, year).published_by_id == staff_id
    published = set(
        db.session.execute(
            select(Course.id).where(Course.year == year, Course.status == CourseStatus.PUBLISHED)
        ).scalars()
    )
    assert published == drafts
    announced = set(
        db.session.execute(
            select(Announcement.course_id).where(Announcement.published_at.is_not(None))
        ).scalars()
    )
    assert announced == due
    assert count(OutboxMessage, OutboxMessage.unsubscribe_url.is_not(None)) == 2 * len(due)
