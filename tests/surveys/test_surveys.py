"""Surveys: the score math, one answer per link, idempotent invitations, reports.

These tests set the release batch k to 1, so that every submission reaches the reports at
once and the reports can be checked answer by answer; the batching itself, the sealing and
the attacks on anonymity are in test_anonymity.py.
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import event, func, inspect, select

from app.core.accounts.models import Role, User
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from app.core.timeutil import local_to_utc
from certificates import services as certificates
from courses.models import Enrollment, EnrollmentStatus
from surveys import services
from surveys.models import (
    Answer,
    Invitation,
    Metric,
    PendingAnswers,
    QuestionType,
    Response,
    SurveyKind,
)
from tests.conftest import login, post_form
from tests.factories import make_course, make_user
from tests.pdfs import assert_lean


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "SURVEY_RELEASE_BATCH": 1}


# --- The math -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"), [(1, 0.0), (2, 25.0), (3, 50.0), (4, 75.0), (5, 100.0)]
)
def test_a_five_point_answer_converts_to_100_points(answer: int, expected: float) -> None:
    assert services.points(answer) == expected


@pytest.mark.parametrize("bad", [0, 6, -1])
def test_the_conversion_refuses_values_outside_the_scale(bad: int) -> None:
    with pytest.raises(ValueError):
        services.points(bad)


def test_score_and_helpfulness_on_known_answer_sets() -> None:
    # 5,5,4,4,3 → 100,100,75,75,50 → mean 80.0; 4 of 5 answered 4 or 5 → 80 %.
    distribution = {5: 2, 4: 2, 3: 1}
    assert services.mean_points(distribution) == 80.0
    assert services.helpful_share(distribution) == 80.0
    assert services.mean_points({4: 3, 5: 1}) == 81.25
    assert services.helpful_share({1: 1, 2: 1, 3: 1, 4: 1}) == 25.0
    assert services.mean_points({}) is None and services.helpful_share({}) is None
    assert services.rate(17, 20) == 85.0 and services.rate(0, 0) is None


# --- Fixtures -----------------------------------------------------------------------------


def ended_course(**fields):
    return make_course(starts=datetime.now() - timedelta(days=5), **fields)


def attendee(course, *, completed: bool = True, name: str | None = None) -> Enrollment:
    learner = make_user(**({"name": name} if name else {}))
    enrollment = Enrollment(
        course_id=course.id,
        learner_id=learner.id,
        status=EnrollmentStatus.ENROLLED,
        completed=completed,
    )
    db.session.add(enrollment)
    db.session.commit()
    return enrollment


def invitation_for(enrollment: Enrollment) -> Invitation:
    return db.session.execute(
        select(Invitation).where(Invitation.enrollment_id == enrollment.id)
    ).scalar_one()


def answers_with(overall: int, **extra) -> dict:
    """Post-course answers: `overall` on the overall question, 4 on the other scales, the
    `comment`, and the `ticks` that the multiple-choice question offers (none by default)."""
    template = services.current_template(SurveyKind.POST_COURSE)
    answers = {}
    for question in template.questions:
        if question.type == QuestionType.LIKERT:
            answers[question.id] = overall if question.metric == Metric.OVERALL else 4
        elif question.type == QuestionType.TEXT:
            answers[question.id] = extra.get("comment", "")
        else:
            answers[question.id] = [t for t in extra.get("ticks", ()) if t <= len(question.options)]
    return answers


def form_data(overall: int | str, comment: str = "") -> dict:
    template = services.current_template(SurveyKind.POST_COURSE)
    data = {}
    for question in template.questions:
        if question.type == QuestionType.LIKERT:
            data[f"q{question.id}"] = str(overall if question.metric == Metric.OVERALL else 4)
        elif question.type == QuestionType.TEXT:
            data[f"q{question.id}"] = comment
    return data


# --- Invitations ----------------------------------------------------------------------------


def test_invite_post_course_is_idempotent_and_reminds_twice(app) -> None:
    course = ended_course()
    a, b = attendee(course), attendee(course)
    first = services.invite_post_course()
    second = services.invite_post_course()
    assert (first.invited, second.invited) == (2, 0)
    assert db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 2

    services.submit(invitation_for(a), answers_with(5))
    later = local_to_utc(datetime.now() + timedelta(days=4))
    assert services.invite_post_course(now=later).reminded == 1  # only b, after 3 days
    assert services.invite_post_course(now=later).reminded == 0
    much_later = local_to_utc(datetime.now() + timedelta(days=8))
    assert services.invite_post_course(now=much_later).reminded == 1  # the 7-day one
    assert services.invite_post_course(now=much_later).reminded == 0
    to_b = db.session.execute(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.to_address == db.session.get(User, b.learner_id).email)
    ).scalar_one()
    assert to_b == 3


def test_the_cli_invites_once(app) -> None:
    attendee(ended_course())
    runner = app.test_cli_runner()
    assert "1 invited" in runner.invoke(args=["surveys", "invite-post-course"]).output
    assert "0 invited" in runner.invoke(args=["surveys", "invite-post-course"]).output


def test_half_yearly_invites_each_completer_once_per_half(app) -> None:
    first = make_course(starts=datetime(2027, 2, 10, 10, 0))
    second = make_course(starts=datetime(2027, 5, 10, 10, 0))
    other_half = make_course(starts=datetime(2027, 9, 10, 10, 0))
    both = make_user()
    for course in (first, second, other_half):
        db.session.add(
            Enrollment(course_id=course.id, learner_id=both.id, status="enrolled", completed=True)
        )
    not_completed = make_user()
    db.session.add(
        Enrollment(
            course_id=first.id, learner_id=not_completed.id, status="enrolled", completed=False
        )
    )
    db.session.commit()

    assert services.invite_half_yearly("2027H1").invited == 1
    assert services.invite_half_yearly("2027H1").invited == 0
    assert services.invite_half_yearly("2027H2").invited == 1
    result = app.test_cli_runner().invoke(
        args=["surveys", "invite-half-yearly", "--half", "2027-1"]
    )
    assert result.exit_code != 0 and "2027H1" in result.output


# --- Answering ------------------------------------------------------------------------------


def test_one_response_per_link_and_the_first_is_kept(client) -> None:
    enrollment = attendee(ended_course())
    services.invite_post_course()
    db.session.commit()
    token = invitation_for(enrollment).token
    assert client.get(f"/surveys/{token}").status_code == 200
    first = post_form(
        client, f"/surveys/{token}", form_data(5, "강의가 실무에 바로 도움이 되었습니다")
    )
    assert first.status_code == 200 and "감사" in first.get_data(as_text=True)
    second = post_form(client, f"/surveys/{token}", form_data(1, "두 번째"))
    assert second.status_code == 409
    assert "이미" in second.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Response)).scalar_one() == 1
    texts = db.session.execute(select(Answer.text).where(Answer.text.is_not(None))).scalars().all()
    assert texts == ["강의가 실무에 바로 도움이 되었습니다"]


@pytest.mark.parametrize("overall", ["7", "0", "five", ""])
def test_an_out_of_range_or_missing_likert_answer_is_a_form_error(client, overall: str) -> None:
    enrollment = attendee(ended_course())
    services.invite_post_course()
    db.session.commit()
    token = invitation_for(enrollment).token
    response = post_form(client, f"/surveys/{token}", form_data(overall))
    assert response.status_code == 200
    assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Response)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(PendingAnswers)).scalar_one() == 0
    db.session.expire_all()
    invitation = invitation_for(enrollment)
    assert not invitation.submitted and invitation.answered_on is None


def test_the_service_refuses_bad_answers_too(app) -> None:
    enrollment = attendee(ended_course())
    services.invite_post_course()
    answers = answers_with(9)
    with pytest.raises(services.SurveyError):
        services.submit(invitation_for(enrollment), answers)
    assert db.session.execute(select(func.count()).select_from(Response)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(PendingAnswers)).scalar_one() == 0
    assert not invitation_for(enrollment).submitted


def test_a_comment_longer_than_the_limit_is_refused(app) -> None:
    enrollment = attendee(ended_course())
    services.invite_post_course()
    with pytest.raises(services.SurveyError):
        services.submit(invitation_for(enrollment), answers_with(4, comment="가" * 4001))
    services.submit(invitation_for(enrollment), answers_with(4, comment="가" * 4000))
    assert db.session.execute(select(func.count()).select_from(Response)).scalar_one() == 1


def test_an_unknown_link_is_404(client) -> None:
    assert client.get("/surveys/not-a-real-token").status_code == 404


def test_submitting_the_survey_opens_the_certificate(app) -> None:
    staff = make_user(Role.STAFF)
    course = ended_course()
    course.closed_at, course.closed_by_id = course.ends_at, staff.id
    enrollment = attendee(course)
    services.invite_post_course()
    assert certificates.valid_certificate(enrollment.id) is None
    services.submit(invitation_for(enrollment), answers_with(4))
    certificate = certificates.valid_certificate(enrollment.id)
    assert certificate is not None and certificate.issued_by_id == staff.id
    db.session.expire_all()
    assert db.session.get(Enrollment, enrollment.id).survey_submitted


# --- Anonymity ------------------------------------------------------------------------------


def test_responses_hold_nothing_that_leads_back_to_a_person(app) -> None:
    columns = {column.key for column in inspect(Response).columns}
    assert columns == {"id", "template_id", "kind", "course_id", "half", "small_batch"}
    answer_columns = {column.key for column in inspect(Answer).columns}
    assert answer_columns == {"response_id", "question_id", "choice", "value", "text"}
    pending_columns = {column.key for column in inspect(PendingAnswers).columns}
    assert pending_columns == {
        "id",
        "kind",
        "course_id",
        "half",
        "template_id",
        "after_close",
        "sealed",
    }
    invitation_columns = {column.key for column in inspect(Invitation).columns}
    assert "response_id" not in invitation_columns and "answered_at" not in invitation_columns


def test_comments_are_hidden_below_three_responses(client) -> None:
    teacher = make_user(Role.INSTRUCTOR)
    course = ended_course(instructors=[teacher])
    people = [attendee(course) for _ in range(3)]
    services.invite_post_course()
    for number, person in enumerate(people[:2]):
        services.submit(invitation_for(person), answers_with(4, comment=f"의견 {number}"))
    db.session.commit()
    login(client, teacher.email)
    page = client.get(f"/surveys/reports/course/{course.id}").get_data(as_text=True)
    assert "의견 0" not in page and "3명" not in page
    assert services.course_result(course.id).comments_hidden

    services.submit(invitation_for(people[2]), answers_with(4, comment="의견 2"))
    db.session.commit()
    page = client.get(f"/surveys/reports/course/{course.id}").get_data(as_text=True)
    assert "의견 0" in page and "의견 2" in page
    for person in people:  # the instructor never sees who answered
        assert db.session.get(User, person.learner_id).name not in page


def test_an_instructor_sees_only_their_own_courses(client) -> None:
    mine = make_user(Role.INSTRUCTOR)
    theirs = make_user(Role.INSTRUCTOR)
    course = ended_course(instructors=[theirs])
    login(client, mine.email)
    assert client.get(f"/surveys/reports/course/{course.id}").status_code == 403
    assert client.get(f"/surveys/reports/instructor/{theirs.id}").status_code == 403
    assert client.get(f"/surveys/reports/instructor/{mine.id}").status_code == 200
    assert client.get(f"/surveys/reports/instructor/{theirs.id}.pdf").status_code == 403
    own_pdf = client.get(f"/surveys/reports/instructor/{mine.id}.pdf")
    assert own_pdf.status_code == 200 and own_pdf.mimetype == "application/pdf"
    assert_lean(own_pdf.data)
    assert client.get(f"/surveys/reports/course/{course.id}/pending").status_code == 403


def test_staff_see_who_has_not_answered_by_name_only(client) -> None:
    course = ended_course()
    answered = attendee(course, name="응답함")
    attendee(course, name="미응답")
    services.invite_post_course()
    services.submit(invitation_for(answered), answers_with(5))
    db.session.commit()
    login(client, make_user(Role.STAFF).email)
    page = client.get(f"/surveys/reports/course/{course.id}/pending").get_data(as_text=True)
    assert "미응답" in page and "응답함" not in page


# --- Reports -------------------------------------------------------------------------------


def test_a_course_report_computes_the_kpi_from_the_answers(app) -> None:
    course = ended_course()
    people = [attendee(course) for _ in range(6)]
    services.invite_post_course()
    for person, overall in zip(people[:5], (5, 5, 4, 4, 3), strict=True):
        services.submit(invitation_for(person), answers_with(overall))
    result = services.course_result(course.id)
    assert (result.responses, result.invitations) == (5, 6)
    assert result.satisfaction == 80.0
    assert round(result.response_rate, 1) == 83.3
    (row,) = services.course_scores(*services.year_bounds(course.year))
    assert row.satisfaction == 80.0 and row.meets_target


def test_half_yearly_helpfulness_is_the_share_answering_4_or_5(app) -> None:
    course = make_course(starts=datetime(2027, 3, 10, 10, 0))
    learners = [make_user() for _ in range(5)]
    for learner in learners:
        db.session.add(
            Enrollment(
                course_id=course.id, learner_id=learner.id, status="enrolled", completed=True
            )
        )
    db.session.commit()
    services.invite_half_yearly("2027H1")
    template = services.current_template(SurveyKind.HALF_YEARLY)
    helpful, usage, _ = template.questions
    for learner, value in zip(learners, (5, 4, 4, 2, 3), strict=True):
        invitation = db.session.execute(
            select(Invitation).where(Invitation.learner_id == learner.id)
        ).scalar_one()
        services.submit(invitation, {helpful.id: value, usage.id: 1})
    assert services.half_yearly_result("2027H1").helpfulness == 60.0


def test_the_half_year_report_page_and_pdf_show_the_helpfulness(client) -> None:
    test_half_yearly_helpfulness_is_the_share_answering_4_or_5(client.application)
    db.session.commit()
    assert client.get("/surveys/reports/2027/H1").status_code == 302  # staff only
    login(client, make_user(Role.STAFF).email)
    page = client.get("/surveys/reports/2027/H1")
    assert page.status_code == 200 and "60.0%" in page.get_data(as_text=True)
    assert 'href="/surveys/reports/2027/H1"' in client.get("/surveys/reports/2027").get_data(
        as_text=True
    )
    pdf = client.get("/surveys/reports/2027/H1.pdf")
    assert pdf.status_code == 200 and "60.0%" in "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages
    )
    assert_lean(pdf.data)
    assert client.get("/surveys/reports/2027/H3").status_code == 404
    assert client.get("/surveys/reports/1999/H1").status_code == 404


def test_editing_a_template_with_answers_makes_a_new_version(app) -> None:
    enrollment = attendee(ended_course())
    services.invite_post_course()
    services.submit(invitation_for(enrollment), answers_with(4))
    old = services.current_template(SurveyKind.POST_COURSE)
    specs = [
        services.QuestionSpec(q.text, q.type, q.required, q.options, q.metric)
        for q in old.questions
    ]
    specs.append(
        services.QuestionSpec("다음에도 수강하시겠습니까?", QuestionType.LIKERT, False, [])
    )
    new = services.save_template(
        SurveyKind.POST_COURSE,
        title=old.title,
        intro=old.intro,
        questions=specs,
        by=make_user(Role.STAFF),
    )
    assert new.version == old.version + 1 and new.id != old.id
    response = db.session.execute(select(Response)).scalar_one()
    assert response.template_id == old.id
    with pytest.raises(services.SurveyError):  # the KPI question cannot go
        services.save_template(
            SurveyKind.POST_COURSE,
            title="x",
            intro="",
            by=make_user(Role.STAFF),
            questions=[services.QuestionSpec("자유 의견", QuestionType.TEXT, False, [])],
        )


def statements_for(client, url: str) -> int:
    count = 0

    def counter(*args, **kwargs):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count


def add_answered_courses(number: int, year: int) -> None:
    for n in range(number):
        course = make_course(starts=datetime(year, 1 + (2 * n) % 12, 5 + n % 20, 10, 0))
        enrollment = attendee(course)
        invitation = Invitation(
            token=uuid.uuid4().hex,
            kind=SurveyKind.POST_COURSE,
            learner_id=enrollment.learner_id,
            enrollment_id=enrollment.id,
            course_id=course.id,
        )
        db.session.add(invitation)
        db.session.commit()
        services.submit(invitation, answers_with(4, comment=f"과정 {n}"))
        db.session.commit()


def test_the_report_page_issues_the_same_number_of_statements_for_6_or_36_courses(client) -> None:
    login(client, make_user(Role.STAFF).email)
    add_answered_courses(6, 2027)  # three responses in each half, so comments show in both
    few = statements_for(client, "/surveys/reports/2027")
    add_answered_courses(30, 2027)
    many = statements_for(client, "/surveys/reports/2027")
    assert few == many
    dashboard_few = statements_for(client, "/staff/")
    add_answered_courses(10, 2027)
    assert statements_for(client, "/staff/") == dashboard_few


def test_reports_are_staff_pages_and_their_pdf_shows_the_score(client) -> None:
    course = ended_course(title="상황허가(캐치올) 실무")
    people = [attendee(course) for _ in range(4)]
    services.invite_post_course()
    for person in people:
        services.submit(invitation_for(person), answers_with(5))
    db.session.commit()
    assert client.get(f"/surveys/reports/{course.year}").status_code == 302
    login(client, make_user(Role.STAFF).email)
    page = client.get(f"/surveys/reports/{course.year}").get_data(as_text=True)
    assert "상황허가(캐치올) 실무" in page and "100.0" in page
    pdf = client.get(f"/surveys/reports/course/{course.id}.pdf")
    assert_lean(pdf.data)
    assert_lean(client.get(f"/surveys/reports/{course.year}.pdf").data)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "상황허가(캐치올) 실무" in text and "100.0" in text
    export = client.get(f"/surveys/reports/{course.year}/answers.csv").data.decode("utf-8-sig")
    assert "상황허가(캐치올) 실무" in export
    for person in people:
        assert db.session.get(User, person.learner_id).email not in export


def test_a_report_can_cap_the_comments_it_fetches(app) -> None:
    course = ended_course()
    people = [attendee(course) for _ in range(4)]
    services.invite_post_course()
    for number, person in enumerate(people):
        services.submit(invitation_for(person), answers_with(4, comment="의견" * (number + 1)))
    start, end = services.year_bounds(course.year)
    (text_question,) = [
        q
        for q in services.period_result(start, end).questions
        if q.question.type == QuestionType.TEXT
    ]
    assert len(text_question.comments) == 4
    (capped,) = [
        q
        for q in services.period_result(start, end, max_comments=2).questions
        if q.question.type == QuestionType.TEXT
    ]
    assert capped.comments == ["의견" * 4, "의견" * 3] and capped.comment_count == 4


def test_half_year_satisfaction_matches_the_full_report(app) -> None:
    first = make_course(starts=datetime(2027, 3, 10, 10, 0))
    second = make_course(starts=datetime(2027, 9, 10, 10, 0))
    for course, values in ((first, (5, 4, 3)), (second, (2, 5))):
        for value in values:
            enrollment = attendee(course)
            invitation = Invitation(
                token=uuid.uuid4().hex,
                kind=SurveyKind.POST_COURSE,
                learner_id=enrollment.learner_id,
                enrollment_id=enrollment.id,
                course_id=course.id,
            )
            db.session.add(invitation)
            db.session.commit()
            services.submit(invitation, answers_with(value))
    halves = services.satisfaction_by_half(2027)
    for part in ("H1", "H2"):
        full = services.period_result(*services.half_bounds(f"2027{part}"))
        assert halves[part].satisfaction == full.satisfaction
        assert (halves[part].responses, halves[part].invitations) == (
            full.responses,
            full.invitations,
        )
    assert halves["H1"].satisfaction == 75.0 and halves["H2"].satisfaction == 62.5
