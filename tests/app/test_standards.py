"""The service-standards report: a year built with known figures, checked standard by
standard in the computed report, on the public page once published, in the PDF the CLI
writes, and on the staff dashboard."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.core import audit
from app.core.accounts.models import Role
from app.core.extensions import db
from app.core.timeutil import local_to_utc
from app.standards import services as standards
from app.standards.services import State
from courses import demand
from courses.models import (
    Announcement,
    Audience,
    Enrollment,
    EnrollmentStatus,
    Material,
    SizeFocus,
    Topic,
)
from surveys import services as surveys
from surveys.models import Invitation, Metric, QuestionType, SurveyKind
from tests.conftest import login, post_form
from tests.factories import make_course, make_user, publish_year
from visits import mentoring
from visits import services as visits
from visits.models import RequestState
from voice import services as voice
from voice.models import ProposalOutcome, VoiceKind

YEAR = 2025  # over whenever the suite runs, so no standard is still "in progress"


def at(*parts: int) -> datetime:
    """A local (Asia/Seoul) wall-clock time of the year, in UTC."""
    return local_to_utc(datetime(*parts))


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "SURVEY_RELEASE_BATCH": 1}  # each answer counts at once


# --- The year ---------------------------------------------------------------------------


def announce(course, published_at: datetime, by=None) -> None:
    db.session.add(
        Announcement(
            course_id=course.id,
            title=course.title,
            body="안내",
            published_at=published_at,
            updated_by_id=by.id if by else None,
        )
    )


def attend(course, count: int, *, completed: bool = True) -> list[Enrollment]:
    seats = [
        Enrollment(
            course_id=course.id,
            learner_id=make_user().id,
            status=EnrollmentStatus.ENROLLED,
            completed=completed,
        )
        for _ in range(count)
    ]
    db.session.add_all(seats)
    db.session.commit()
    return seats


def answer_post_course(course, overall_values: list[int]) -> None:
    surveys.invite_course(course, notify=False)
    template = surveys.current_template(SurveyKind.POST_COURSE)
    invitations = db.session.execute(
        select(Invitation).where(Invitation.course_id == course.id).order_by(Invitation.id)
    ).scalars()
    for invitation, overall in zip(invitations, overall_values, strict=False):
        answers = {}
        for question in template.questions:
            if question.type == QuestionType.LIKERT:
                answers[question.id] = overall if question.metric == Metric.OVERALL else 4
            elif question.type == QuestionType.TEXT:
                answers[question.id] = ""
            else:
                answers[question.id] = []
        surveys.submit(invitation, answers)
    db.session.commit()


def answer_half_yearly(half: str, helpful_values: list[int]) -> None:
    surveys.invite_half_yearly(half)
    template = surveys.current_template(SurveyKind.HALF_YEARLY)
    invitations = db.session.execute(
        select(Invitation).where(Invitation.half == half).order_by(Invitation.id)
    ).scalars()
    for invitation, helpful in zip(invitations, helpful_values, strict=True):
        answers = {}
        for question in template.questions:
            if question.type == QuestionType.LIKERT:
                answers[question.id] = helpful if question.metric == Metric.HELPFULNESS else 4
            elif question.type == QuestionType.SINGLE:
                answers[question.id] = 1
            elif question.type == QuestionType.TEXT:
                answers[question.id] = ""
            else:
                answers[question.id] = []
        surveys.submit(invitation, answers)
    db.session.commit()


def onsite_request(company_user, submitted_at: datetime, answered_at: datetime, state):
    request = visits.create_request(
        visits.RequestDetails(
            title="판정 실무",
            content="내용",
            topics=[],
            preferred_dates=["4월 첫째 주", "4월 둘째 주"],
            address="수원",
            region="gyeonggi",
            audience="practitioners",
            expected_headcount=12,
            venue_capacity=None,
            contact_name="담당",
            contact_phone="010",
            contact_email="hr@example.com",
        ),
        by=company_user,
    )
    request.submitted_at, request.first_response_at, request.state = (
        submitted_at,
        answered_at,
        state,
    )
    db.session.commit()
    return request


def mentoring_case(company_user, staff) -> None:
    case = mentoring.apply(
        mentoring.Application(
            cp_status="building",
            needs=["system"],
            preferred_dates="3월",
            contact_name="담당",
            contact_phone="010",
            contact_email="cp@example.com",
        ),
        by=company_user,
    )
    case.created_at = at(YEAR, 2, 3, 10, 0)
    mentoring.assign(case, make_user(Role.INSTRUCTOR), by=staff)
    mentoring.log_visit(
        case,
        visited_on=date(YEAR, 3, 4),
        attendees="담당자",
        topics="CP 규정",
        findings="규정 초안 필요",
        actions=[("내부 규정 초안", date(YEAR, 4, 1)), ("교육 계획", date(YEAR, 5, 1))],
        by=staff,
    )
    first, second = sorted(case_actions(case.id), key=lambda action: action.due_on)
    first.done_on = date(YEAR, 3, 28)  # on time
    second.done_on = date(YEAR, 5, 9)  # late
    db.session.commit()


def case_actions(case_id: int):
    from visits.models import FollowUpAction

    return db.session.execute(
        select(FollowUpAction).where(FollowUpAction.case_id == case_id)
    ).scalars()


def hand_out(course, uploaded_at: datetime) -> None:
    db.session.add(
        Material(
            course_id=course.id,
            title="교재",
            filename="handout.pdf",
            content_type="application/pdf",
            size=4,
            sha256="0" * 64,
            data=b"%PDF",
            uploaded_at=uploaded_at,
        )
    )
    db.session.commit()


def file(kind: VoiceKind, filed_at: datetime):
    return voice.file_item(
        voice.Filing(
            kind=kind,
            subject="교육 일정 문의",
            message="하반기 일정이 궁금합니다.",
            name="민원인",
            email="voice@example.com",
            consent=True,
        ),
        user=None,
        now=filed_at,
    )


@pytest.fixture
def known_year(app):
    """One year of each standard's events, with the figures listed in EXPECTED."""
    staff = make_user(Role.STAFF, name="김담당")
    company_user = make_user(Role.COMPANY)
    publish_year(YEAR, by=staff, at=at(YEAR, 1, 20, 9, 0))  # 1: met
    # 2 and 3: three public courses, one announced 9 days ahead, one 4 days, one never.
    executives = make_course(
        starts=datetime(YEAR, 3, 10, 10, 0), audience=Audience.EXECUTIVES, size_focus=SizeFocus.SME
    )
    newcomers = make_course(
        starts=datetime(YEAR, 5, 12, 10, 0), audience=Audience.NEWCOMERS, size_focus=SizeFocus.LARGE
    )
    practitioners = make_course(starts=datetime(YEAR, 9, 15, 10, 0))
    announce(executives, at(YEAR, 3, 1, 9, 0), by=staff)
    announce(newcomers, at(YEAR, 5, 8, 9, 0))
    # 4: one request answered the next working day, one after six working days.
    onsite_request(
        company_user, at(YEAR, 4, 1, 10, 0), at(YEAR, 4, 2, 10, 0), RequestState.ACCEPTED
    )
    onsite_request(
        company_user, at(YEAR, 6, 2, 10, 0), at(YEAR, 6, 10, 10, 0), RequestState.DECLINED
    )
    # 6: one instructor meeting.
    from surveys.models import InstructorMeeting

    db.session.add(
        InstructorMeeting(held_on=date(YEAR, 6, 20), half=f"{YEAR}H1", title="상반기 간담회")
    )
    db.session.commit()
    # 8: satisfaction 87.5 from two answers (5 and 4); helpfulness 100% in each half.
    attend(executives, 2)
    answer_post_course(executives, [5, 4])
    attend(practitioners, 1)
    surveys.invite_course(practitioners, notify=False)  # surveyed, not answered
    db.session.commit()
    answer_half_yearly(f"{YEAR}H1", [5, 5])
    answer_half_yearly(f"{YEAR}H2", [4])
    # 9: one case, one visit, two actions of which one was done late.
    mentoring_case(company_user, staff)
    # 5: one confirmed notify-me sign-up; one course opened from it (and the request above).
    interest = demand.register_interest("wish@example.com", topic=Topic.CATCH_ALL)
    demand.confirm_interest(interest.token)
    interest.confirmed_at = at(YEAR, 2, 10, 9, 0)
    practitioners.opened_on_demand_at = at(YEAR, 2, 20, 9, 0)
    db.session.commit()
    # 7: current materials for one course, a two-year-old version for another, none for one.
    hand_out(executives, at(YEAR, 2, 1, 9, 0))
    hand_out(newcomers, at(YEAR - 2, 1, 5, 9, 0))
    # 12: an inquiry answered in 4 hours, a proposal in 48 (late), a complaint in 2.
    inquiry = file(VoiceKind.INQUIRY, at(YEAR, 3, 3, 10, 0))
    voice.reply(inquiry, "답변입니다.", interim=False, by=staff, now=at(YEAR, 3, 3, 14, 0))
    proposal = file(VoiceKind.PROPOSAL, at(YEAR, 4, 7, 10, 0))
    voice.reply(proposal, "검토 중입니다.", interim=True, by=staff, now=at(YEAR, 4, 9, 10, 0))
    voice.resolve(
        proposal,
        "반영합니다.",
        outcome=ProposalOutcome.ACCEPTED,
        by=staff,
        now=at(YEAR, 4, 20, 10, 0),
    )
    complaint = file(VoiceKind.COMPLAINT, at(YEAR, 5, 12, 10, 0))
    voice.reply(
        complaint, "불편을 드려 죄송합니다.", interim=True, by=staff, now=at(YEAR, 5, 12, 12, 0)
    )
    voice.resolve(complaint, "안내문을 고쳤습니다.", by=staff, now=at(YEAR, 5, 13, 10, 0))
    db.session.commit()
    # 10: one person deleted their account in the year.
    entry = audit.record("user.delete_personal_data", None, by=None, object_type="users")
    entry.at = at(YEAR, 7, 1, 12, 0)
    db.session.commit()
    return staff


#: Each standard's state, headline figure and chosen details for `known_year`.
EXPECTED = {
    1: (State.MET, "2025-01-20", {}),
    2: (State.MISSED, 33.3, {"courses_judged": 3, "announced_late": 1, "started_unannounced": 1}),
    3: (State.MET, 5, {"public_courses": 3, "specialised_courses": 3, "audience_executives": 1}),
    4: (State.MISSED, 50.0, {"requests_received": 2, "requests_accepted": 1}),
    5: (State.MET, 2, {"demand_signups": 1, "courses_from_demand": 1, "onsite_from_requests": 1}),
    6: (State.MISSED, 1, {"meetings_scheduled": 0}),
    7: (State.MISSED, 33.3, {"courses_started": 3, "materials_stale": 1, "materials_missing": 1}),
    8: (
        State.MET,
        87.5,
        {
            "survey_responses": 2,
            "helpfulness_h1": 100.0,
            "helpfulness_h2": 100.0,
            "courses_surveyed": 100.0,
        },
    ),
    9: (State.MISSED, 50.0, {"actions_due": 2, "actions_late": 1, "mentoring_visits": 1}),
    10: (State.MET, None, {"deletions": 1}),
    11: (
        State.MET,
        100.0,
        {"announcements_published": 2, "named_by_editor": 1, "replies_signed": 3},
    ),
    12: (
        State.MISSED,
        66.7,
        {"items_filed": 3, "answered_late": 1, "median_response": 4.0, "complaints_reported": 1},
    ),
}


def test_every_standard_has_its_known_figure_and_state(known_year) -> None:
    report = standards.compute(YEAR)
    assert [item.number for item in report.standards] == list(range(1, 13))
    for number, (state, figure, details) in EXPECTED.items():
        item = report.standard(number)
        assert (item.state, item.figure.value) == (state, figure), number
        values = {measure.key: measure.value for measure in item.details}
        for key, value in details.items():
            assert values[key] == value, (number, key)


def test_a_report_round_trips_through_its_published_snapshot(known_year) -> None:
    report = standards.compute(YEAR)
    assert standards.StandardsReport.from_dict(report.to_dict()) == report


def test_the_public_page_shows_the_published_figures_and_404s_before(client, known_year) -> None:
    assert client.get(f"/standards/{YEAR}").status_code == 404
    assert client.get(f"/standards/{YEAR}.pdf").status_code == 404
    login(client, known_year.email)
    confirm = client.get(f"/standards/{YEAR}/publish")
    assert confirm.status_code == 200 and "<script" not in confirm.get_data(as_text=True)
    assert post_form(client, f"/standards/{YEAR}/publish").status_code == 302
    anonymous = client.application.test_client()
    page = anonymous.get(f"/standards/{YEAR}").get_data(as_text=True)
    report = standards.compute(YEAR)
    for item in report.standards:
        assert f'data-standard="{item.number}" data-state="{item.state.value}"' in page
    assert "33.3%" in page and "87.5" in page
    assert f"/standards/{YEAR}" in anonymous.get("/standards/").get_data(as_text=True)


def test_the_cli_prints_and_writes_every_standard(app, known_year, tmp_path) -> None:
    output = tmp_path / "standards.pdf"
    result = app.test_cli_runner().invoke(
        args=["standards", "report", "--year", str(YEAR), "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(output.read_bytes())).pages)
    with app.test_request_context():
        report = standards.compute(YEAR)
        for item in report.standards:
            line = f"{item.number:>2}. {item.title}: {item.figure.text}"
            assert line in result.output
            assert item.title in text.replace("\n", ""), item.number
        assert "33.3%" in text and "87.5" in text


def test_the_dashboard_shows_the_years_standards(client, known_year) -> None:
    login(client, known_year.email)
    page = client.get(f"/staff/?year={YEAR}").get_data(as_text=True)
    for number, (state, _figure, _details) in EXPECTED.items():
        assert f'data-standard="{number}" data-state="{state.value}"' in page
    assert client.get("/staff/?year=99999").status_code == 404


def test_an_empty_year_is_not_applicable_rather_than_met(app) -> None:
    report = standards.compute(2031, now=at(2032, 2, 1, 9, 0))
    states = {item.number: item.state for item in report.standards}
    assert states[1] == State.MISSED  # no calendar published by 31 January
    assert states[6] == State.MISSED  # no meetings held
    assert {states[n] for n in (2, 3, 4, 5, 7, 9, 11, 12)} == {State.NOT_APPLICABLE}


def test_a_running_year_is_in_progress_where_nothing_failed_yet(app) -> None:
    report = standards.compute(2031, now=at(2031, 3, 1, 9, 0))
    assert report.standard(6).state == State.DUE
    assert report.standard(1).state == State.MISSED  # 31 January has passed
    early = standards.compute(2031, now=at(2031, 1, 5, 9, 0))
    assert early.standard(1).state == State.DUE


def test_staff_only_publish_and_bounded_years(client, known_year) -> None:
    learner = make_user()
    login(client, learner.email)
    assert post_form(client, f"/standards/{YEAR}/publish").status_code == 403
    assert client.get(f"/standards/{YEAR}").status_code == 404
    assert client.get("/standards/1999").status_code == 404
    assert standards.published_report(YEAR) is None
