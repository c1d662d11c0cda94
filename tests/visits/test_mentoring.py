"""CP mentoring cases: life cycle, permissions, visits with follow-ups, readiness checklist."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.core.accounts.models import Role
from app.core.audit import AuditEntry
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from tests.conftest import login, post_form
from tests.factories import make_user
from tests.pdfs import assert_lean
from visits import mentoring
from visits.models import CaseState, ChecklistStatus, MentoringCase

NOT, UNDERWAY, DONE = ChecklistStatus.NOT_STARTED, ChecklistStatus.IN_PROGRESS, ChecklistStatus.DONE


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([DONE] * 8, 100.0),
        ([NOT] * 8, 0.0),
        ([DONE, DONE, UNDERWAY, NOT], 62.5),
        ([UNDERWAY] * 4, 50.0),
        ([DONE, NOT, NOT, NOT, NOT, NOT, NOT, NOT], 12.5),
        ([], None),
    ],
)
def test_readiness_counts_done_fully_and_under_way_half(statuses, expected) -> None:
    assert mentoring.readiness(statuses) == expected


def apply_form(**changes) -> dict:
    form = {
        "cp_status": "building",
        "needs": ["criteria", "system"],
        "preferred_dates": "5월 화요일 오후",
        "contact_name": "한가람",
        "contact_phone": "042-000-0000",
        "contact_email": "cp@nuri.example.com",
        "notes": "",
    }
    form.update(changes)
    return form


def test_a_case_runs_from_application_to_closure(app, client) -> None:
    company = make_user(Role.COMPANY)
    staff = make_user(Role.STAFF, name="김하늘")
    mentor = make_user(Role.INSTRUCTOR, name="강태웅")

    login(client, company.email)
    assert post_form(client, "/visits/mentoring/new", apply_form(needs=[])).status_code == 200
    response = post_form(client, "/visits/mentoring/new", apply_form())
    assert response.status_code == 302
    case = db.session.execute(select(MentoringCase)).scalar_one()
    assert case.state == CaseState.APPLIED and case.needs == ["criteria", "system"]
    assert len(mentoring.checklist(case)) == 8  # the default designation criteria

    desk = app.test_client()
    login(desk, staff.email)
    post_form(desk, f"/visits/mentoring/{case.id}/assign", {"mentor_id": str(mentor.id)})
    db.session.expire_all()
    case = db.session.get(MentoringCase, case.id)
    assert case.state == CaseState.ASSIGNED and case.mentor_id == mentor.id
    assert any(
        "강태웅" in body for body in db.session.execute(select(OutboxMessage.body)).scalars()
    )

    home_doctor = app.test_client()
    login(home_doctor, mentor.email)
    visited = (date.today() - timedelta(days=1)).isoformat()
    response = post_form(
        home_doctor,
        f"/visits/mentoring/{case.id}/visits",
        {
            "visited_on": visited,
            "attendees": "대표이사, 수출관리팀장",
            "topics": "판정 절차 점검",
            "findings": "판정 기록이 누락되어 있음",
            "action_1": "판정 대장 양식 도입",
            "due_1": (date.today() + timedelta(days=14)).isoformat(),
        },
    )
    assert response.status_code == 302
    items = mentoring.checklist(case)
    post_form(
        home_doctor,
        f"/visits/mentoring/{case.id}/checklist",
        {
            f"status-{items[0][0].id}": "done",
            f"status-{items[1][0].id}": "in_progress",
            f"notes-{items[0][0].id}": "방침 공표 완료",
        },
    )
    db.session.expire_all()
    rows = mentoring.checklist(db.session.get(MentoringCase, case.id))
    assert mentoring.readiness([entry.status for _, entry in rows]) == pytest.approx(100 * 1.5 / 8)
    assert db.session.get(MentoringCase, case.id).state == CaseState.IN_PROGRESS

    page = client.get(f"/visits/mentoring/{case.id}").get_data(as_text=True)
    assert "판정 대장 양식 도입" in page and "방침 공표 완료" in page and "19%" in page
    visit = mentoring.visits_of(case.id)[0]
    pdf = client.get(f"/visits/mentoring/visits/{visit.id}.pdf")
    assert_lean(pdf.data)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "강태웅" in text and "판정 대장 양식 도입" in text

    post_form(home_doctor, f"/visits/mentoring/{case.id}/close")
    db.session.expire_all()
    assert db.session.get(MentoringCase, case.id).state == CaseState.CLOSED
    actions = set(db.session.execute(select(AuditEntry.action)).scalars())
    assert {
        "mentoring.assigned",
        "mentoring.visit",
        "mentoring.checklist",
        "mentoring.closed",
    } <= actions


def test_a_company_sees_only_its_own_case(app, client) -> None:
    ours, theirs = make_user(Role.COMPANY), make_user(Role.COMPANY)
    case = mentoring.apply(
        mentoring.Application(
            cp_status="none",
            needs=["criteria"],
            preferred_dates="언제든",
            contact_name="a",
            contact_phone="1",
            contact_email="a@example.com",
        ),
        by=theirs,
    )
    login(client, ours.email)
    assert client.get(f"/visits/mentoring/{case.id}").status_code == 404
    assert theirs.company.name not in client.get("/visits/mentoring/").get_data(as_text=True)
    visit_pdf = client.get("/visits/mentoring/visits/1.pdf")
    assert visit_pdf.status_code == 404


def test_only_the_mentor_or_staff_work_on_a_case(app, client) -> None:
    company = make_user(Role.COMPANY)
    case = mentoring.apply(
        mentoring.Application(
            cp_status="designated",
            needs=["privileges"],
            preferred_dates="x",
            contact_name="a",
            contact_phone="1",
            contact_email="a@example.com",
        ),
        by=company,
    )
    mentoring.assign(case, make_user(Role.INSTRUCTOR), by=make_user(Role.STAFF))
    other = make_user(Role.INSTRUCTOR)
    login(client, other.email)
    assert client.get(f"/visits/mentoring/{case.id}").status_code == 404
    login(client, company.email)
    assert post_form(client, f"/visits/mentoring/{case.id}/close").status_code == 403


def test_refused_case_transitions(app) -> None:
    company = make_user(Role.COMPANY)
    staff = make_user(Role.STAFF)
    case = mentoring.apply(
        mentoring.Application(
            cp_status="none",
            needs=["training"],
            preferred_dates="x",
            contact_name="a",
            contact_phone="1",
            contact_email="a@example.com",
        ),
        by=company,
    )
    with pytest.raises(mentoring.MentoringError):
        mentoring.start(case, by=staff)  # no mentor yet
    with pytest.raises(mentoring.MentoringError):
        mentoring.log_visit(
            case,
            visited_on=date.today(),
            attendees="x",
            topics="x",
            findings="x",
            actions=[],
            by=staff,
        )
    mentoring.close(case, by=staff)
    with pytest.raises(mentoring.MentoringError):
        mentoring.assign(case, make_user(Role.INSTRUCTOR), by=staff)


def test_overdue_follow_ups_reach_the_dashboard(app, client) -> None:
    company = make_user(Role.COMPANY)
    staff = make_user(Role.STAFF)
    case = mentoring.apply(
        mentoring.Application(
            cp_status="building",
            needs=["system"],
            preferred_dates="x",
            contact_name="a",
            contact_phone="1",
            contact_email="a@example.com",
        ),
        by=company,
    )
    mentoring.assign(case, make_user(Role.INSTRUCTOR), by=staff)
    mentoring.log_visit(
        case,
        visited_on=date.today() - timedelta(days=20),
        attendees="x",
        topics="x",
        findings="x",
        actions=[("내부 규정 초안 제출", date.today() - timedelta(days=3))],
        by=staff,
    )
    standard = mentoring.mentoring_standard(date.today().year)
    assert standard.open_cases == 1 and len(standard.overdue_actions) == 1
    login(client, staff.email)
    page = client.get("/staff/").get_data(as_text=True)
    assert 'id="standard-9"' in page
