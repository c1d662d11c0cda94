"""Custom on-site training: a request opens at 10 confirmed sign-ups and becomes a course."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.accounts.models import Role
from app.core.audit import AuditEntry
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from certificates import services as certificates
from courses import attendance
from courses.models import Course, Enrollment, EnrollmentStatus
from tests.conftest import login, post_form
from tests.factories import make_course, make_user
from visits import services
from visits.models import OnsiteRequest, RequestState, Signup


def request_form(**changes) -> dict:
    form = {
        "title": "연구소 대상 전략물자 판정 실무",
        "content": "연구소 엔지니어가 자사 품목을 직접 판정할 수 있도록 실습 위주로 진행해 주세요.",
        "date_1": "2027-04-14",
        "date_2": "2027-04-21",
        "date_3": "",
        "address": "경기 수원시 영통구 삼성로 1 한빛정밀 교육장",
        "region": "gyeonggi",
        "audience": "practitioners",
        "expected_headcount": "15",
        "venue_capacity": "20",
        "contact_name": "오세훈",
        "contact_phone": "031-123-4567",
        "contact_email": "hr@hanbit.example.com",
        "notes": "",
    }
    form.update(changes)
    return form


def sign_up_and_confirm(client, token: str, n: int) -> None:
    email = f"engineer{n}@hanbit.example.com"
    response = post_form(
        client,
        f"/visits/onsite/join/{token}",
        {"name": f"연구원{n}", "email": email, "department": "연구소"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[-500:]
    mail = (
        db.session.execute(select(OutboxMessage).where(OutboxMessage.to_address == email))
        .scalars()
        .all()[-1]
    )
    path = re.search(r"https?://[^/]+(/visits/onsite/confirm/\S+)", mail.body).group(1)
    assert client.get(path).status_code == 200  # opening the link only asks
    assert post_form(client, path).status_code == 200


def state_of(request_id: int) -> RequestState:
    db.session.expire_all()
    return db.session.get(OnsiteRequest, request_id).state


def test_end_to_end_from_request_to_certificates(app, client) -> None:
    contact = make_user(Role.COMPANY, name="오세훈")
    staff = make_user(Role.STAFF, name="김하늘")
    teacher = make_user(Role.INSTRUCTOR, name="이수진")
    make_course(title="전략물자 판정 실무")  # a catalog subject to pick from

    login(client, contact.email)
    response = post_form(
        client, "/visits/onsite/new", {**request_form(), "topics": ["전략물자 판정 실무"]}
    )
    assert response.status_code == 302
    request = db.session.execute(select(OnsiteRequest)).scalar_one()
    assert request.state == RequestState.DRAFT and request.topics == ["전략물자 판정 실무"]
    post_form(client, f"/visits/onsite/{request.id}/open")
    assert state_of(request.id) == RequestState.COLLECTING

    participants = app.test_client()
    for n in range(9):
        sign_up_and_confirm(participants, request.share_token, n)
    refused = post_form(client, f"/visits/onsite/{request.id}/submit", follow_redirects=True)
    refusal = refused.get_data(as_text=True)
    assert 'class="flash flash-error"' in refusal and "9" in refusal
    assert state_of(request.id) == RequestState.COLLECTING

    sign_up_and_confirm(participants, request.share_token, 9)
    page = client.get(f"/visits/onsite/{request.id}").get_data(as_text=True)
    assert "10 / 10" in page
    post_form(client, f"/visits/onsite/{request.id}/submit")
    assert state_of(request.id) == RequestState.SUBMITTED

    desk = app.test_client()
    login(desk, staff.email)
    post_form(desk, f"/visits/onsite/{request.id}/accept")
    assert state_of(request.id) == RequestState.ACCEPTED
    start = datetime.now() + timedelta(days=20)
    response = post_form(
        desk,
        f"/visits/onsite/{request.id}/schedule",
        {
            "title": "한빛정밀 맞춤형 판정 실무",
            "content": "1교시 판정 실습",
            "starts_at": start.strftime("%Y-%m-%dT10:00"),
            "ends_at": start.strftime("%Y-%m-%dT16:00"),
            "hours": "5",
            "instructor_ids": [str(teacher.id)],
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    request = db.session.get(OnsiteRequest, request.id)
    assert request.state == RequestState.SCHEDULED
    course = db.session.get(Course, request.course_id)
    assert course.private and course.format == "onsite"
    enrolled = db.session.execute(
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.course_id == course.id, Enrollment.status == EnrollmentStatus.ENROLLED)
    ).scalar_one()
    assert enrolled == 10
    invited = db.session.execute(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.body.contains("/auth/set-password/"))
    ).scalar_one()
    assert invited == 10  # every participant got an account and a link to set a password
    # Company mail names the responsible staff member at every step.
    to_company = (
        db.session.execute(
            select(OutboxMessage.body).where(OutboxMessage.to_address == "hr@hanbit.example.com")
        )
        .scalars()
        .all()
    )
    assert len(to_company) >= 2 and all("김하늘" in body for body in to_company)
    assert "한빛정밀 맞춤형 판정 실무" not in client.application.test_client().get(
        "/courses/"
    ).get_data(as_text=True)

    # Attendance and completion lead to certificates, as for any course.
    course.requires_survey = False
    course.starts_at, course.ends_at = (
        course.starts_at - timedelta(days=30),
        course.ends_at - timedelta(days=30),
    )
    db.session.commit()
    db.session.query(attendance.CourseSession).filter_by(course_id=course.id).delete()
    db.session.add_all(attendance.default_sessions(course))
    db.session.commit()
    session = attendance.sessions_of(course.id)[0]
    marks = {e.id: "present" for e in attendance.roster(course.id)}
    attendance.record_attendance(session, marks, by=staff)
    attendance.close_course(course, by=staff)
    db.session.commit()
    issued = db.session.execute(
        select(func.count()).select_from(certificates.Certificate)
    ).scalar_one()
    assert issued == 10

    post_form(desk, f"/visits/onsite/{request.id}/deliver")
    post_form(desk, f"/visits/onsite/{request.id}/close")
    assert state_of(request.id) == RequestState.CLOSED
    actions = set(db.session.execute(select(AuditEntry.action)).scalars())
    assert {"onsite.accepted", "onsite.scheduled", "onsite.delivered", "onsite.closed"} <= actions


# --- Refused transitions -------------------------------------------------------------------


@pytest.fixture
def contact():
    return make_user(Role.COMPANY)


def new_request(contact, **changes) -> OnsiteRequest:
    details = services.RequestDetails(
        title="판정 실무",
        content="내용",
        topics=[],
        preferred_dates=["4월 첫째 주", "4월 둘째 주"],
        address="수원",
        region="gyeonggi",
        audience="practitioners",
        expected_headcount=12,
        venue_capacity=changes.pop("venue_capacity", None),
        contact_name="담당",
        contact_phone="010",
        contact_email="hr@example.com",
    )
    request = services.create_request(details, by=contact)
    for name, value in changes.items():
        setattr(request, name, value)
    db.session.commit()
    return request


def add_confirmed(request, count: int) -> None:
    for n in range(count):
        db.session.add(
            Signup(
                request_id=request.id,
                name=f"p{n}",
                email=f"p{n}-{request.id}@example.com",
                confirm_token=f"c{request.id}-{n}",
                confirmed_at=datetime.now().astimezone(),
            )
        )
    db.session.commit()


def test_submission_below_the_threshold_is_refused(app, contact) -> None:
    request = new_request(contact, state=RequestState.COLLECTING)
    add_confirmed(request, 9)
    db.session.add(
        Signup(
            request_id=request.id, name="미확인", email="unconfirmed@example.com", confirm_token="u"
        )
    )
    db.session.commit()
    with pytest.raises(services.VisitError, match="9"):
        services.submit(request, by=contact)


@pytest.mark.parametrize(
    ("state", "operation"),
    [
        (RequestState.DRAFT, "submit"),
        (RequestState.DRAFT, "accept"),
        (RequestState.COLLECTING, "accept"),
        (RequestState.SUBMITTED, "schedule"),
        (RequestState.DECLINED, "accept"),
        (RequestState.SCHEDULED, "withdraw"),
        (RequestState.WITHDRAWN, "open_signups"),
        (RequestState.ACCEPTED, "deliver"),
    ],
)
def test_refused_transitions(app, contact, state, operation) -> None:
    request = new_request(contact, state=state)
    add_confirmed(request, 10)
    staff = make_user(Role.STAFF)
    calls = {
        "submit": lambda: services.submit(request, by=contact),
        "accept": lambda: services.accept(request, by=staff),
        "withdraw": lambda: services.withdraw(request, by=contact),
        "open_signups": lambda: services.open_signups(request, by=contact),
        "deliver": lambda: services.mark_delivered(request, by=staff),
        "schedule": lambda: services.schedule(
            request,
            services.Schedule(
                starts_at=datetime.now().astimezone() + timedelta(days=5),
                ends_at=datetime.now().astimezone() + timedelta(days=5, hours=4),
                hours=4,
                instructor_ids=[],
                title="t",
                content="c",
            ),
            by=staff,
        ),
    }
    with pytest.raises(services.VisitError):
        calls[operation]()
    db.session.rollback()
    assert state_of(request.id) == state


def test_declining_needs_a_reason_and_tells_the_company(app, contact) -> None:
    request = new_request(contact, state=RequestState.SUBMITTED)
    staff = make_user(Role.STAFF, name="박정민")
    with pytest.raises(services.VisitError):
        services.decline(request, " ", by=staff)
    services.decline(request, "요청 지역에 강사 배정이 어렵습니다", by=staff)
    mail = db.session.execute(select(OutboxMessage)).scalars().all()[-1]
    assert "요청 지역에 강사 배정이 어렵습니다" in mail.body and "박정민" in mail.body


@pytest.mark.parametrize(
    "state",
    [RequestState.SCHEDULED, RequestState.WITHDRAWN, RequestState.LAPSED, RequestState.DRAFT],
)
def test_sign_up_is_refused_once_closed(client, contact, state) -> None:
    request = new_request(contact, state=state)
    response = post_form(
        client,
        f"/visits/onsite/join/{request.share_token}",
        {"name": "늦은 신청", "email": "late@example.com"},
    )
    assert response.status_code == 200
    assert db.session.execute(select(func.count()).select_from(Signup)).scalar_one() == 0


def test_sign_up_past_the_venue_capacity_is_refused(client, contact) -> None:
    request = new_request(contact, state=RequestState.COLLECTING, venue_capacity=10)
    add_confirmed(request, 10)
    response = post_form(
        client,
        f"/visits/onsite/join/{request.share_token}",
        {"name": "열한번째", "email": "eleven@example.com"},
    )
    assert "error" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Signup)).scalar_one() == 10


def test_a_duplicate_email_is_refused_with_a_message(client, contact) -> None:
    request = new_request(contact, state=RequestState.COLLECTING)
    form = {"name": "김", "email": "Kim@Example.com"}
    post_form(client, f"/visits/onsite/join/{request.share_token}", form)
    again = post_form(
        client, f"/visits/onsite/join/{request.share_token}", {**form, "email": "kim@example.com"}
    )
    assert again.status_code == 200 and 'class="error"' in again.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Signup)).scalar_one() == 1


def test_a_signed_in_participant_needs_no_confirmation(client, contact) -> None:
    request = new_request(contact, state=RequestState.COLLECTING)
    learner = make_user(email="me@example.com")
    login(client, learner.email)
    post_form(
        client,
        f"/visits/onsite/join/{request.share_token}",
        {"name": "나", "email": "me@example.com"},
    )
    assert services.confirmed_count(request.id) == 1


def test_a_request_lapses_below_the_threshold_and_everyone_is_told(app, contact) -> None:
    request = new_request(
        contact, state=RequestState.COLLECTING, signup_deadline=date.today() - timedelta(days=1)
    )
    add_confirmed(request, 4)
    full = new_request(
        contact, state=RequestState.COLLECTING, signup_deadline=date.today() - timedelta(days=1)
    )
    add_confirmed(full, 10)
    assert services.lapse_due() == 1
    assert services.lapse_due() == 0
    assert (
        state_of(request.id) == RequestState.LAPSED and state_of(full.id) == RequestState.COLLECTING
    )
    recipients = set(db.session.execute(select(OutboxMessage.to_address)).scalars())
    assert (
        "hr@example.com" in recipients
        and {f"p{n}-{request.id}@example.com" for n in range(4)} <= recipients
    )


def test_the_deadline_can_be_extended_once(app, contact) -> None:
    request = new_request(contact, state=RequestState.COLLECTING, signup_deadline=date.today())
    services.extend_deadline(request, date.today() + timedelta(days=7), by=contact)
    with pytest.raises(services.VisitError):
        services.extend_deadline(request, date.today() + timedelta(days=14), by=contact)


def test_a_company_never_sees_another_companys_request(client, contact) -> None:
    request = new_request(contact)
    other = make_user(Role.COMPANY)
    login(client, other.email)
    assert client.get(f"/visits/onsite/{request.id}").status_code == 404
    assert post_form(client, f"/visits/onsite/{request.id}/withdraw").status_code == 404
    assert request.title not in client.get("/visits/onsite/").get_data(as_text=True)
    assert client.get(f"/visits/onsite/{request.id}/edit").status_code == 404


def test_learners_cannot_reach_requests(client, contact) -> None:
    request = new_request(contact)
    login(client, make_user().email)
    assert client.get(f"/visits/onsite/{request.id}").status_code == 403
    assert client.get("/visits/onsite/new").status_code == 403


def test_bad_request_input_is_a_form_error(client, contact) -> None:
    login(client, contact.email)
    for changes in (
        {"date_2": ""},
        {"expected_headcount": "0"},
        {"contact_email": "nope"},
        {"venue_capacity": "5"},
        {"title": ""},
    ):
        response = post_form(client, "/visits/onsite/new", request_form(**changes))
        assert response.status_code == 200, changes
        assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(OnsiteRequest)).scalar_one() == 0


def test_the_sla_clock_counts_working_days(app, contact) -> None:
    from app.core.timeutil import local_to_utc

    friday = local_to_utc(datetime(2027, 4, 9, 17, 0))
    request = new_request(contact, state=RequestState.SUBMITTED, submitted_at=friday)
    assert not services.is_overdue(request, now=local_to_utc(datetime(2027, 4, 13, 9, 0)))  # Tue
    assert services.is_overdue(request, now=local_to_utc(datetime(2027, 4, 14, 9, 0)))  # Wed
    assert services.working_days_between(
        friday, local_to_utc(datetime(2027, 4, 12, 17, 0))
    ) == pytest.approx(1.0)  # 7 h on Friday + 17 h on Monday
