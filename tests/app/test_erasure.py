"""Standard 10, erasure on request: after /me/delete the person's name, e-mail address and
phone are nowhere in the database, whatever the person did before; statistics and the
certificate's verifiability stay.

The scan is generic: every text, varchar and JSON column of every table (and binary
columns, for the address in plain bytes), so a table added later is covered by itself.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import JSON, LargeBinary, String, func, select
from sqlalchemy.types import TypeDecorator

from app.core import outbox
from app.core.accounts.models import Role, User
from app.core.audit import AuditEntry
from app.core.erasure import ERASED_ADDRESS, Person
from app.core.extensions import db
from app.core.outbox import MailStatus, OutboxMessage
from app.core.timeutil import local_today
from certificates.models import Certificate, CertificateStatus
from courses import attendance, enrolment, invitations
from courses.models import AttendanceStatus, Course, Enrollment, EnrollmentStatus, Subscriber
from surveys import services as surveys
from surveys.models import Invitation, QuestionType, Response, SurveyKind
from tests.conftest import login, post_form
from tests.factories import PASSWORD, make_course, make_two_day_course, make_user
from visits import mentoring
from visits import services as visits
from visits.models import OnsiteRequest, Signup

NAME = "홍길동테스트"
EMAIL = "hong.unique@example.com"
PHONE = "010-9876-5432"
NEEDLES = (NAME.lower(), EMAIL.lower(), EMAIL.partition("@")[0].lower(), PHONE)
DIGITS = re.sub(r"\D", "", PHONE)


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "SURVEY_RELEASE_BATCH": 1}


# --- The scan ------------------------------------------------------------------------------


def _is_text(column) -> bool:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, String | JSON)


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _holds_the_person(text: str) -> bool:
    lowered = text.lower()
    return any(needle in lowered for needle in NEEDLES) or DIGITS in re.sub(r"[\s.\-]", "", text)


def columns_holding_the_person() -> dict[str, list[str]]:
    """`table.column` → the offending values, over every table the models declare."""
    found: dict[str, list[str]] = {}
    for table in db.metadata.sorted_tables:
        texts = [c for c in table.columns if _is_text(c)]
        binaries = [c for c in table.columns if isinstance(c.type, LargeBinary)]
        for column in texts:
            for value in db.session.execute(select(column)).scalars():
                if value is not None and _holds_the_person(_as_text(value)):
                    found.setdefault(f"{table.name}.{column.name}", []).append(_as_text(value))
        for column in binaries:
            for value in db.session.execute(select(column)).scalars():
                if value and EMAIL.encode() in bytes(value).lower():
                    found.setdefault(f"{table.name}.{column.name}", []).append("<bytes>")
    return found


# --- The person's life in the product --------------------------------------------------------


def _mail_to(address: str) -> list[OutboxMessage]:
    return list(
        db.session.execute(
            select(OutboxMessage).where(OutboxMessage.to_address == address)
        ).scalars()
    )


def _register_and_confirm(client) -> User:
    form = {
        "email": EMAIL,
        "name": NAME,
        "phone": PHONE,
        "department": "수출관리팀",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "consent_privacy": "y",
    }
    assert post_form(client, "/auth/register", form).status_code in (200, 302)
    (mail,) = _mail_to(EMAIL)
    path = re.search(r"https?://[^/]+(/auth/confirm/[^\s?]+)", mail.body).group(1)
    assert post_form(client, path).status_code == 302
    return db.session.execute(select(User).where(User.email == EMAIL)).scalar_one()


def _past_course_with_certificate(person: User, staff: User, classmate: User) -> Course:
    """Completed, certified and surveyed; a classmate's comment names the person."""
    starts = datetime.combine(local_today() - timedelta(days=6), time(10, 0))
    course = make_two_day_course(
        starts, title="상황허가(캐치올) 실무", capacity=10, requires_survey=True
    )
    rows = [
        Enrollment(course_id=course.id, learner_id=learner.id, status=EnrollmentStatus.ENROLLED)
        for learner in (person, classmate)
    ]
    db.session.add_all(rows)
    course.seats_taken = 2
    db.session.commit()
    for session in attendance.sessions_of(course.id):
        marks = {row.id: AttendanceStatus.PRESENT for row in rows}
        attendance.record_attendance(session, marks, by=staff)
    attendance.close_course(course, by=staff)
    surveys.invite_post_course()
    db.session.commit()
    return course


def _answer_survey(client, learner: User, comment: str) -> None:
    token = db.session.execute(
        select(Invitation.token).where(Invitation.learner_id == learner.id)
    ).scalar_one()
    template = surveys.current_template(SurveyKind.POST_COURSE)
    data = {}
    for question in template.questions:
        if question.type == QuestionType.LIKERT:
            data[f"q{question.id}"] = "5"
        elif question.type == QuestionType.TEXT:
            data[f"q{question.id}"] = comment
    assert post_form(client, f"/surveys/{token}", data).status_code == 200


def _company_contact_names_the_person(app, company: User) -> None:
    """The company's training contact files an on-site request and a mentoring application
    with the person as contact."""
    contact = app.test_client()
    login(contact, company.email)
    request = {
        "title": "연구소 대상 판정 실무",
        "content": f"담당 {NAME}에게 연락 주세요.",
        "date_1": "2027-04-14",
        "date_2": "2027-04-21",
        "address": "경기 수원시 영통구",
        "region": "gyeonggi",
        "audience": "practitioners",
        "expected_headcount": "15",
        "venue_capacity": "20",
        "contact_name": NAME,
        "contact_phone": PHONE,
        "contact_email": EMAIL,
        "notes": f"연락처 {DIGITS}",
    }
    assert post_form(contact, "/visits/onsite/new", request).status_code == 302
    case = {
        "cp_status": "building",
        "needs": ["criteria", "system"],
        "preferred_dates": "5월 화요일 오후",
        "contact_name": NAME,
        "contact_phone": PHONE,
        "contact_email": EMAIL.upper(),
        "notes": f"{NAME} 과장이 CP 담당입니다.",
    }
    assert post_form(contact, "/visits/mentoring/new", case).status_code == 302


def _other_company_request(other_company: User, staff: User) -> OnsiteRequest:
    details = visits.RequestDetails(
        title="판정 실무",
        content="내용",
        topics=[],
        preferred_dates=["4월 첫째 주", "4월 둘째 주"],
        address="부산",
        region="busan",
        audience="practitioners",
        expected_headcount=12,
        venue_capacity=None,
        contact_name="박담당",
        contact_phone="051-000-0000",
        contact_email="hr@busan.example.com",
    )
    request = visits.create_request(details, by=other_company)
    visits.open_signups(request, by=other_company)
    db.session.commit()
    return request


def _staff_work(app, staff: User, person: User, courses: dict[str, Course]) -> None:
    """Roster add and a waiting-list move, audited with the person's address and name."""
    desk = app.test_client()
    login(desk, staff.email)
    added = post_form(
        desk,
        f"/courses/{courses['tomorrow'].id}/roster/add",
        {"email": EMAIL.upper(), "reason": f"{NAME} 전화 요청 ({PHONE})"},
    )
    assert added.status_code == 302
    waiting = enrolment.find_enrollment(courses["full"].id, person.id)
    moved = post_form(
        desk,
        f"/courses/{courses['full'].id}/roster/{waiting.id}/move",
        {"position": "1", "reason": f"{NAME}님 우선 배정"},
    )
    assert moved.status_code == 302


def _stats(course: Course) -> dict:
    db.session.expire_all()
    result = surveys.course_result(course.id)
    enrolments = (
        select(func.count()).select_from(Enrollment).where(Enrollment.course_id == course.id)
    )
    return {
        "seats": db.session.get(Course, course.id).seats_taken,
        "enrolments": db.session.execute(enrolments).scalar_one(),
        "completed": db.session.execute(
            enrolments.where(Enrollment.completed.is_(True))
        ).scalar_one(),
        "certificates": db.session.execute(
            select(func.count())
            .select_from(Certificate)
            .where(
                Certificate.course_id == course.id, Certificate.status == CertificateStatus.VALID
            )
        ).scalar_one(),
        "responses": db.session.execute(
            select(func.count()).select_from(Response).where(Response.course_id == course.id)
        ).scalar_one(),
        "survey": (result.responses, result.invitations, result.response_rate),
    }


def test_deleting_leaves_no_trace_of_the_person_anywhere(app, client, smtp_server) -> None:
    staff = make_user(Role.STAFF, name="김담당")
    classmate = make_user(name="이동료")
    company = make_user(Role.COMPANY, name="최인사")
    other_company = make_user(Role.COMPANY, name="박부산")
    soon = datetime.now() + timedelta(days=10)
    courses = {
        "cancelled": make_course(title="전략물자 판정 실무", starts=soon, capacity=5),
        "full": make_course(title="이중용도품목 판정", starts=soon, capacity=1),
        "tomorrow": make_course(
            title="기술이전 통제",
            starts=datetime.combine(local_today() + timedelta(days=1), time(10, 0)),
        ),
        "invited": make_course(title="CP 실무자 과정", starts=soon + timedelta(days=5)),
    }

    person = _register_and_confirm(client)  # the client is now signed in as the person
    assert post_form(client, f"/courses/{courses['cancelled'].id}/enroll").status_code == 302
    assert post_form(client, f"/courses/{courses['cancelled'].id}/cancel").status_code == 302
    enrolment.enroll(courses["full"], classmate, by=classmate)
    db.session.commit()
    assert post_form(client, f"/courses/{courses['full'].id}/enroll").status_code == 302
    db.session.add(Subscriber(email=EMAIL, token="sub", confirmed_at=datetime.now().astimezone()))
    db.session.commit()
    _staff_work(app, staff, person, courses)
    enrolment.remind_due()  # the day-before reminder, with the .ics attached
    db.session.commit()
    assert outbox.send_due().sent >= 2  # confirmation and reminder, over real SMTP
    assert any(EMAIL in str(message["To"]) for message in smtp_server.messages)

    past = _past_course_with_certificate(person, staff, classmate)
    _answer_survey(client, person, f"{NAME}입니다. 연락은 {PHONE}로 주세요.")
    _answer_survey(app.test_client(), classmate, f"{NAME}님과 함께 들어 좋았습니다")
    db.session.commit()
    certificate = db.session.execute(
        select(Certificate).where(Certificate.learner_id == person.id)
    ).scalar_one()
    code = certificate.verification_code

    _company_contact_names_the_person(app, company)
    request = _other_company_request(other_company, staff)
    joined = post_form(
        client,
        f"/visits/onsite/join/{request.share_token}",
        {"name": NAME, "email": EMAIL, "department": "수출관리팀"},
    )
    assert joined.status_code == 200
    db.session.expire_all()
    for number in range(request.threshold):
        db.session.add(
            Signup(
                request_id=request.id,
                name=f"p{number}",
                email=f"p{number}@busan.example.com",
                confirm_token=f"busan-{number}",
                confirmed_at=datetime.now().astimezone(),
            )
        )
    db.session.commit()
    request = db.session.get(OnsiteRequest, request.id)
    visits.submit(request, by=other_company)
    visits.decline(request, f"{NAME} 참가자 확인 불가, 문의 {EMAIL}", by=staff)
    case = db.session.execute(select(mentoring.MentoringCase)).scalar_one()
    mentoring.assign(case, staff, by=staff)  # mails the contact, by name
    company_contact = db.session.get(User, company.id)
    invitations.ensure_company_may_invite(company_contact)
    invitations.invite_employees(courses["invited"], company_contact, [EMAIL])
    db.session.commit()
    # a promotion mail stays queued: the classmate leaves the full course
    enrolment.cancel(enrolment.find_enrollment(courses["full"].id, classmate.id), by=classmate)
    db.session.commit()
    assert any(m.status == MailStatus.PENDING for m in _mail_to(EMAIL))
    before = _stats(past)
    assert columns_holding_the_person(), "the scenario must put the person into the database"

    assert post_form(client, "/me/delete", {"password": PASSWORD}).status_code == 302

    db.session.expire_all()
    assert columns_holding_the_person() == {}
    verify = client.get(f"/certificates/verify/{code}")
    assert verify.status_code == 200
    page = verify.get_data(as_text=True)
    assert "본인 요청으로 소지자 정보 삭제" in page and "상황허가(캐치올) 실무" in page
    assert _stats(past) == before
    assert not any(m.status == MailStatus.PENDING for m in _mail_to(ERASED_ADDRESS))
    fresh = app.test_client()
    response = post_form(fresh, "/auth/login", {"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/me/").status_code == 302


# --- What counts as a mention ----------------------------------------------------------------


def person(**fields) -> Person:
    values = {"name": NAME, "email": EMAIL, "phone": PHONE, "placeholder": "탈퇴 회원 #7"}
    return Person(**{**values, **fields})


def test_a_mention_is_replaced_by_the_placeholder_in_its_usual_forms() -> None:
    text = (
        f"{NAME}님, Hong.Unique@Example.COM 또는 hong.unique 로 연락, "
        "전화 010 9876 5432 / +82 10-9876-5432 / 01098765432"
    )
    assert person().scrub(text) == (
        "탈퇴 회원 #7님, 탈퇴 회원 #7 또는 탈퇴 회원 #7 로 연락, "
        "전화 탈퇴 회원 #7 / 탈퇴 회원 #7 / 탈퇴 회원 #7"
    )


def test_a_short_or_generic_identifier_does_not_blank_unrelated_text() -> None:
    one_letter = person(name="김", email="sales@example.com", phone="12")
    text = "김치찌개 sales team, 2026년 12월"
    assert one_letter.scrub(text) == text
    latin = person(name="Kim", email="kim@example.com", phone=None)
    assert latin.scrub("Kimchi for Kim, not kim@example.org") == (
        "Kimchi for 탈퇴 회원 #7, not kim@example.org"
    )
    assert person().scrub("0109876543210 xhong.unique@example.com") == (
        "0109876543210 xhong.unique@example.com"
    )


def test_json_values_are_scrubbed_inside_lists_and_dicts() -> None:
    value = {"learner": EMAIL, "names": [NAME, "이동료"], EMAIL: 1, "n": 3}
    assert person().scrub_json(value) == {
        "learner": "탈퇴 회원 #7",
        "names": ["탈퇴 회원 #7", "이동료"],
        "탈퇴 회원 #7": 1,
        "n": 3,
    }


def test_other_peoples_mail_and_audit_entries_stay_as_they_were(app, client) -> None:
    """A colleague whose name shares the person's first syllable keeps every mail and entry."""
    learner = make_user(name="김수", email="kim.su1@example.com", phone="010-1111-2222")
    colleague = make_user(name="김수출", email="kim.suchul@example.com", phone="010-3333-4444")
    staff = make_user(Role.STAFF)
    course = make_course(starts=datetime.now() + timedelta(days=10))
    for someone in (learner, colleague):
        enrolment.enroll(course, someone, by=staff, reason="전화 신청")
        outbox.queue(
            someone.email,
            "안내",
            "message",
            context={"text": f"{someone.name}님, 안녕하세요."},
            to_name=someone.name,
        )
    db.session.commit()
    kept = [(m.to_address, m.to_name, m.body) for m in _mail_to(colleague.email)]
    login(client, learner.email)

    assert post_form(client, "/me/delete", {"password": PASSWORD}).status_code == 302

    db.session.expire_all()
    assert [(m.to_address, m.to_name, m.body) for m in _mail_to(colleague.email)] == kept
    [(address, name, body)] = kept  # the body is the rendered text part, layout included
    assert (address, name) == (colleague.email, "김수출")
    assert "김수출님, 안녕하세요." in body
    details = db.session.execute(select(AuditEntry.details)).scalars().all()
    assert {"learner": colleague.email, "status": "enrolled", "reason": "전화 신청"} in details
    assert {"learner": f"탈퇴 회원 #{learner.id}", "status": "enrolled", "reason": "전화 신청"} in (
        details
    )


def test_a_two_syllable_name_is_found_with_particles_but_not_inside_a_longer_name() -> None:
    short = person(name="김수", email="ks@example.com", phone=None)
    assert (
        short.scrub("김수님, 김수 과장, 김수에게")
        == "탈퇴 회원 #7님, 탈퇴 회원 #7 과장, 탈퇴 회원 #7에게"
    )
    assert short.scrub("김수출 과장, 이김수") == "김수출 과장, 이김수"
