"""Instructor meetings: feedback packs per instructor, their privacy, standard 6."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from pypdf import PdfReader

from app.core.accounts.models import Role
from app.core.extensions import db
from courses.models import Enrollment, EnrollmentStatus
from surveys import meetings, services
from surveys.models import InstructorMeeting, Invitation, Metric, QuestionType, SurveyKind
from tests.conftest import login, post_form
from tests.factories import make_course, make_user
from tests.pdfs import assert_lean


@pytest.fixture
def app_config(app_config: dict) -> dict:
    # Every answer reaches the reports at once; batching is tested in test_anonymity.py.
    return {**app_config, "SURVEY_RELEASE_BATCH": 1}


def answered_course(instructor, overall_values: list[int], ended_days_ago: int = 20):
    course = make_course(
        starts=datetime.now() - timedelta(days=ended_days_ago), instructors=[instructor]
    )
    template = services.current_template(SurveyKind.POST_COURSE)
    for value in overall_values:
        learner = make_user()
        enrollment = Enrollment(
            course_id=course.id, learner_id=learner.id, status=EnrollmentStatus.ENROLLED
        )
        db.session.add(enrollment)
        db.session.flush()
        invitation = Invitation(
            token=f"m-{enrollment.id}",
            kind=SurveyKind.POST_COURSE,
            learner_id=learner.id,
            enrollment_id=enrollment.id,
            course_id=course.id,
        )
        db.session.add(invitation)
        db.session.commit()
        answers = {
            q.id: (value if q.metric == Metric.OVERALL else 4)
            for q in template.questions
            if q.type == QuestionType.LIKERT
        }
        services.submit(invitation, answers)
    db.session.commit()
    return course


def meeting_today(staff) -> InstructorMeeting:
    meeting = meetings.save(
        meetings.MeetingRecord(held_on=date.today(), title="하반기 강사 간담회", attendee_ids=[]),
        by=staff,
    )
    db.session.commit()
    return meeting


def test_the_pack_pdf_contains_each_instructors_score(client) -> None:
    staff = make_user(Role.STAFF)
    lee, choi = make_user(Role.INSTRUCTOR, name="이수진"), make_user(Role.INSTRUCTOR, name="최민호")
    answered_course(lee, [5, 5, 4, 4])  # 87.5 points
    answered_course(choi, [3, 4, 3])  # 58.3 points
    meeting = meeting_today(staff)
    login(client, staff.email)
    pdf = client.get(f"/surveys/meetings/{meeting.id}/pack.pdf")
    assert pdf.status_code == 200
    assert_lean(pdf.data)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "이수진" in text and "87.5" in text
    assert "최민호" in text and "58.3" in text


def test_an_instructor_sees_only_their_own_pack(client) -> None:
    staff = make_user(Role.STAFF)
    lee, choi = make_user(Role.INSTRUCTOR, name="이수진"), make_user(Role.INSTRUCTOR, name="최민호")
    answered_course(lee, [5, 5, 5])
    answered_course(choi, [2, 2, 2])
    meeting = meeting_today(staff)
    login(client, lee.email)
    page = client.get(f"/surveys/meetings/{meeting.id}").get_data(as_text=True)
    assert "이수진" in page and "최민호" not in page and f'data-instructor="{choi.id}"' not in page
    own_pdf = client.get(f"/surveys/meetings/{meeting.id}/pack.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(own_pdf.data)).pages)
    assert "이수진" in text and "최민호" not in text


def test_a_pack_covers_the_courses_since_the_previous_meeting(app) -> None:
    staff = make_user(Role.STAFF)
    lee = make_user(Role.INSTRUCTOR)
    answered_course(lee, [1, 1, 1], ended_days_ago=60)  # before the previous meeting
    answered_course(lee, [5, 5, 5], ended_days_ago=10)
    meetings.save(
        meetings.MeetingRecord(
            held_on=date.today() - timedelta(days=30), title="상반기", attendee_ids=[]
        ),
        by=staff,
    )
    current = meeting_today(staff)
    (pack,) = meetings.packs(current)
    assert pack.result.satisfaction == 100.0 and len(pack.courses) == 1


def test_staff_record_a_meeting_and_learners_cannot_see_it(client) -> None:
    staff = make_user(Role.STAFF)
    login(client, staff.email)
    response = post_form(
        client,
        "/surveys/meetings/new",
        {
            "held_on": date.today().isoformat(),
            "title": "2분기 간담회",
            "agenda": "만족도 결과 공유",
            "minutes": "판정 실습 시간 확대 논의",
            "decisions": "실습 비중 50%로 확대",
        },
    )
    assert response.status_code == 302
    meeting = db.session.execute(db.select(InstructorMeeting)).scalar_one()
    assert meeting.half == meetings.half_of(date.today())
    bad = post_form(client, "/surveys/meetings/new", {"held_on": "someday", "title": "x"})
    assert bad.status_code == 200 and 'class="error"' in bad.get_data(as_text=True)
    learner = client.application.test_client()
    login(learner, make_user().email)
    assert learner.get(f"/surveys/meetings/{meeting.id}").status_code == 403


def test_standard_six_counts_meetings_and_warns_about_the_second_half(app) -> None:
    staff = make_user(Role.STAFF)
    year = 2027
    meetings.save(
        meetings.MeetingRecord(held_on=date(year, 3, 10), title="1차", attendee_ids=[]), by=staff
    )
    before_summer = meetings.meeting_standard(year, today=date(year, 5, 1))
    assert (before_summer.held, before_summer.met, before_summer.second_half_missing) == (
        1,
        False,
        True,
    )
    meetings.save(
        meetings.MeetingRecord(held_on=date(year, 9, 15), title="2차", attendee_ids=[]), by=staff
    )
    autumn = meetings.meeting_standard(year, today=date(year, 10, 1))
    assert (autumn.held, autumn.met, autumn.second_half_missing) == (2, True, False)
