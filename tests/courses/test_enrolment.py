"""Enrolment, the waiting list, cancellation and promotion, and their mail."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.accounts.models import Role
from app.core.audit import AuditEntry
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from app.core.timeutil import local_to_utc, utcnow
from courses import enrolment
from courses.models import Course, CourseStatus, Enrollment, EnrollmentStatus
from tests.conftest import login, post_form
from tests.factories import make_course, make_user


def mails() -> list[OutboxMessage]:
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def seats_taken(course: Course) -> int:
    db.session.expire_all()
    return db.session.get(Course, course.id).seats_taken


def upcoming(**fields) -> Course:
    return make_course(starts=datetime.now() + timedelta(days=30), **fields)


def fill(course: Course, count: int) -> list[Enrollment]:
    results = []
    for _ in range(count):
        learner = make_user()
        results.append(enrolment.enroll(course, learner, by=learner).enrollment)
    return results


def test_a_learner_enrols_through_the_course_page(client) -> None:
    course = upcoming(capacity=2)
    learner = make_user()
    login(client, learner.email)
    response = post_form(client, f"/courses/{course.id}/enroll", follow_redirects=True)
    assert 'class="flash flash-success"' in response.get_data(as_text=True)
    assert enrolment.find_enrollment(course.id, learner.id).status == EnrollmentStatus.ENROLLED
    assert seats_taken(course) == 1


def test_a_double_click_gives_a_clean_message_and_one_seat(client) -> None:
    course = upcoming()
    learner = make_user()
    login(client, learner.email)
    post_form(client, f"/courses/{course.id}/enroll")
    second = post_form(client, f"/courses/{course.id}/enroll", follow_redirects=True)
    assert second.status_code == 200
    assert "이미" in second.get_data(as_text=True)
    assert seats_taken(course) == 1


def test_a_full_course_puts_learners_on_the_waiting_list_in_order(app) -> None:
    course = upcoming(capacity=2)
    fill(course, 2)
    late = [make_user() for _ in range(3)]
    positions = [enrolment.enroll(course, u, by=u).waiting_position for u in late]
    assert positions == [1, 2, 3]
    assert seats_taken(course) == 2


def test_cancelling_promotes_the_first_waiting_learner_and_queues_one_mail(app) -> None:
    course = upcoming(capacity=1)
    (holder,) = fill(course, 1)
    first, second = make_user(name="대기일번"), make_user(name="대기이번")
    enrolment.enroll(course, first, by=first)
    enrolment.enroll(course, second, by=second)
    mails_before = len(mails())

    promoted = enrolment.cancel(holder, by=db.session.get(type(first), holder.learner_id))

    assert [e.learner_id for e in promoted] == [first.id]
    db.session.expire_all()
    assert enrolment.find_enrollment(course.id, first.id).status == EnrollmentStatus.ENROLLED
    assert enrolment.find_enrollment(course.id, second.id).status == EnrollmentStatus.WAITING
    assert enrolment.waiting_position(enrolment.find_enrollment(course.id, second.id)) == 1
    assert seats_taken(course) == 1
    new_mails = mails()[mails_before:]
    assert [m.to_address for m in new_mails] == [first.email]
    assert "/courses/seat/decline/" in new_mails[0].body


def test_the_decline_link_passes_the_seat_to_the_next_in_line(client) -> None:
    course = upcoming(capacity=1)
    (holder,) = fill(course, 1)
    first, second = make_user(), make_user()
    enrolment.enroll(course, first, by=first)
    enrolment.enroll(course, second, by=second)
    enrolment.cancel(holder, by=db.session.get(type(first), holder.learner_id))
    db.session.commit()
    token = enrolment.find_enrollment(course.id, first.id).decline_token

    page = client.get(f"/courses/seat/decline/{token}")
    assert page.status_code == 200  # a GET (a mail scanner's preview) changes nothing
    assert enrolment.find_enrollment(course.id, first.id).status == EnrollmentStatus.ENROLLED

    response = post_form(client, f"/courses/seat/decline/{token}")
    assert response.status_code == 302
    db.session.expire_all()
    assert enrolment.find_enrollment(course.id, first.id).status == EnrollmentStatus.DECLINED
    assert enrolment.find_enrollment(course.id, second.id).status == EnrollmentStatus.ENROLLED
    assert post_form(client, f"/courses/seat/decline/{token}").status_code == 410


def test_cancelling_with_nobody_waiting_frees_the_seat(app) -> None:
    course = upcoming(capacity=3)
    (holder,) = fill(course, 1)
    enrolment.cancel(holder, by=db.session.get(type(make_user()), holder.learner_id))
    assert seats_taken(course) == 0
    assert mails() == []


def test_a_learner_cannot_cancel_after_the_cutoff(client) -> None:
    course = make_course(starts=datetime.now() + timedelta(days=2), cancel_cutoff_days=3)
    learner = make_user()
    enrolment.enroll(course, learner, by=learner)
    db.session.commit()
    login(client, learner.email)
    response = post_form(client, f"/courses/{course.id}/cancel", follow_redirects=True)
    assert "마감" in response.get_data(as_text=True) or "closed" in response.get_data(as_text=True)
    assert enrolment.find_enrollment(course.id, learner.id).status == EnrollmentStatus.ENROLLED


def test_a_place_on_the_waiting_list_can_be_given_up_after_the_cutoff(client) -> None:
    course = make_course(
        starts=datetime.now() + timedelta(days=2), cancel_cutoff_days=3, capacity=1
    )
    fill(course, 1)
    learner = make_user()
    assert enrolment.enroll(course, learner, by=learner).enrollment.status == "waiting"
    db.session.commit()
    login(client, learner.email)
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "대기 취소" in page or "대기자 명단에서" in page
    response = post_form(client, f"/courses/{course.id}/cancel", follow_redirects=True)
    assert response.status_code == 200
    assert enrolment.find_enrollment(course.id, learner.id).status == EnrollmentStatus.CANCELLED
    assert seats_taken(course) == 1  # the seat holder keeps it


def test_the_enrol_button_warns_once_the_cutoff_has_passed(client) -> None:
    course = make_course(starts=datetime.now() + timedelta(days=2), cancel_cutoff_days=3)
    login(client, make_user().email)
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "flash-warning" in page and "취소할 수 없습니다" in page
    later = upcoming()
    assert "flash-warning" not in client.get(f"/courses/{later.id}").get_data(as_text=True)


def test_enrolment_is_refused_for_drafts_started_and_cancelled_courses(app) -> None:
    learner = make_user()
    for course in (
        upcoming(status=CourseStatus.DRAFT),
        upcoming(status=CourseStatus.CANCELLED),
        make_course(starts=datetime.now() - timedelta(hours=1)),
    ):
        with pytest.raises(enrolment.EnrolmentClosed):
            enrolment.enroll(course, learner, by=learner)
    assert db.session.execute(select(func.count()).select_from(Enrollment)).scalar_one() == 0


def test_raising_capacity_promotes_as_many_as_fit(client) -> None:
    from courses import services

    course = upcoming(capacity=1)
    fill(course, 1)
    waiting = [make_user() for _ in range(3)]
    for learner in waiting:
        enrolment.enroll(course, learner, by=learner)
    staff = make_user(Role.STAFF)
    fields = {name: getattr(course, name) for name in services.COURSE_FIELDS}
    details = services.CourseDetails(
        **{**fields, "capacity": 3}, starts_at=course.starts_at, ends_at=course.ends_at
    )
    services.update_course(services.get_course(course.id), details, by=staff)
    db.session.expire_all()
    statuses = [enrolment.find_enrollment(course.id, u.id).status for u in waiting]
    assert statuses == [
        EnrollmentStatus.ENROLLED,
        EnrollmentStatus.ENROLLED,
        EnrollmentStatus.WAITING,
    ]
    assert seats_taken(course) == 3
    assert len(mails()) == 2


def test_staff_reorder_the_waiting_list_only_with_a_reason(app) -> None:
    course = upcoming(capacity=1)
    fill(course, 1)
    a, b, c = (make_user() for _ in range(3))
    for learner in (a, b, c):
        enrolment.enroll(course, learner, by=learner)
    staff = make_user(Role.STAFF)
    last = enrolment.find_enrollment(course.id, c.id)
    with pytest.raises(enrolment.EnrolmentError):
        enrolment.move_in_queue(last, to_position=1, by=staff, reason="  ")
    enrolment.move_in_queue(last, to_position=1, by=staff, reason="장애인 우선 배정")
    order = [e.learner_id for e in enrolment.waiting_list(course.id)]
    assert order == [c.id, a.id, b.id]
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "waitlist.reorder")
    ).scalar_one()
    assert entry.details["reason"] == "장애인 우선 배정"
    assert (entry.details["from_position"], entry.details["to_position"]) == (3, 1)


def test_staff_remove_a_learner_with_a_logged_reason(client) -> None:
    course = upcoming(capacity=1)
    (holder,) = fill(course, 1)
    staff = make_user(Role.STAFF)
    login(client, staff.email)
    refused = post_form(client, f"/courses/{course.id}/roster/{holder.id}/remove", {"reason": ""})
    assert refused.status_code == 302
    db.session.expire_all()
    assert db.session.get(Enrollment, holder.id).status == EnrollmentStatus.ENROLLED
    post_form(client, f"/courses/{course.id}/roster/{holder.id}/remove", {"reason": "중복 신청"})
    db.session.expire_all()
    assert db.session.get(Enrollment, holder.id).status == EnrollmentStatus.REMOVED
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "enrollment.remove")
    ).scalar_one()
    assert (entry.actor_id, entry.details["reason"]) == (staff.id, "중복 신청")


def test_removing_a_seat_holder_from_a_full_course_names_the_promoted_learner(client) -> None:
    course = upcoming(capacity=1)
    (holder,) = fill(course, 1)
    waiting = make_user(name="박대기")
    enrolment.enroll(course, waiting, by=waiting)
    db.session.commit()
    login(client, make_user(Role.STAFF).email)

    response = post_form(
        client, f"/courses/{course.id}/roster/{holder.id}/remove", {"reason": "중복 신청"}
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/courses/{course.id}/roster")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<p class="flash flash-info">박대기님이 대기자 명단에서' in page
    db.session.expire_all()
    assert db.session.get(Enrollment, holder.id).status == EnrollmentStatus.REMOVED
    promoted = enrolment.find_enrollment(course.id, waiting.id)
    assert promoted.status == EnrollmentStatus.ENROLLED
    assert seats_taken(course) == 1


def test_the_roster_exports_korean_csv_with_bom_and_xlsx(client) -> None:
    import io

    from openpyxl import load_workbook

    course = upcoming()
    learner = make_user(name="김수출")
    enrolment.enroll(course, learner, by=learner)
    login(client, make_user(Role.STAFF).email)
    csv_bytes = client.get(f"/courses/{course.id}/roster.csv").data
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    assert "김수출" in csv_bytes.decode("utf-8-sig")
    book = load_workbook(io.BytesIO(client.get(f"/courses/{course.id}/roster.xlsx").data))
    values = [cell.value for row in book.active.iter_rows() for cell in row]
    assert "김수출" in values and learner.email in values


def test_other_instructors_cannot_see_a_roster(client) -> None:
    course = upcoming(instructors=[make_user(Role.INSTRUCTOR)])
    login(client, make_user(Role.INSTRUCTOR).email)
    assert client.get(f"/courses/{course.id}/roster").status_code == 403


def test_a_company_sees_only_its_own_employees(client) -> None:
    contact = make_user(Role.COMPANY)
    other = make_user(Role.COMPANY)
    course = upcoming()
    ours = make_user(company=contact.company, name="우리직원")
    theirs = make_user(company=other.company, name="남의직원")
    for learner in (ours, theirs):
        enrolment.enroll(course, learner, by=learner)
    db.session.commit()
    login(client, contact.email)
    page = client.get(f"/courses/{course.id}/company").get_data(as_text=True)
    assert "우리직원" in page and "남의직원" not in page


def test_the_reminder_goes_the_day_before_with_the_course_ics(app) -> None:
    from icalendar import Calendar

    tomorrow_10 = datetime.combine(
        datetime.now().date() + timedelta(days=1), datetime.min.time()
    ).replace(hour=10)
    course = make_course(starts=tomorrow_10)
    later = upcoming()
    learner = make_user()
    enrolment.enroll(course, learner, by=learner)
    enrolment.enroll(later, learner, by=learner)
    now = local_to_utc(datetime.combine(datetime.now().date(), datetime.min.time()).replace(hour=9))
    assert enrolment.remind_due(now=now) == 1
    assert enrolment.remind_due(now=now) == 0
    (reminder,) = mails()
    (attachment,) = reminder.attachments
    (event,) = Calendar.from_ical(attachment.data).walk("VEVENT")
    assert str(event["summary"]) == course.title
    assert utcnow() < event.decoded("dtstart")
