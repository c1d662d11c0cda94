"""Every export reads back the way a person sees it, in openpyxl as in Excel, LibreOffice
or pandas: the header on row 1, named sheets, real date cells in local time, one charset.

Issue 12: the review found a title row above the roster's header, dates as text, survey
answers that named a course run by its title only (six runs share one) and a CSV
`Content-Type` with `charset` twice.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time

import pytest
from flask_babel import gettext
from openpyxl import load_workbook

from app.core.accounts.models import Role
from app.core.extensions import db
from app.core.timeutil import local_to_utc
from courses.models import Enrollment, EnrollmentStatus
from surveys import services
from surveys.models import Invitation, Metric, QuestionType, SurveyKind
from tests.conftest import login
from tests.factories import make_course, make_user

DATE_FORMATS = {"yyyy-mm-dd", "yyyy-mm-dd hh:mm"}


@pytest.fixture
def app_config(app_config: dict) -> dict:
    # Every answer reaches the export at once; the batching is tested in test_anonymity.py.
    return {**app_config, "SURVEY_RELEASE_BATCH": 1}


@pytest.fixture
def staff(client):
    login(client, make_user(Role.STAFF).email)
    return client


def korean(app, *messages: str) -> list[str]:
    """The header a Korean page shows, whatever the catalog translates today."""
    with app.test_request_context():
        return [gettext(message) for message in messages]


def download(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    return response


def sheet_of(response):
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.worksheets) == 1
    return book, book.active


def csv_rows(response) -> list[list[str]]:
    assert response.data.startswith(b"\xef\xbb\xbf")  # Excel needs it to read Korean
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def assert_one_charset(response) -> None:
    (value,) = response.headers.getlist("Content-Type")
    assert value.lower().count("charset=") == 1, value
    assert value.lower() == "text/csv; charset=utf-8"


def assert_date_cell(cell, expected: datetime) -> None:
    assert isinstance(cell.value, datetime), (cell.coordinate, cell.value)
    assert cell.value == expected
    assert cell.is_date and cell.number_format in DATE_FORMATS


# --- The roster ------------------------------------------------------------------------------


ROSTER_HEADER = (
    "No.",
    "Name",
    "E-mail",
    "Company",
    "Department",
    "Status",
    "Completion",
    "Joined",
)


def roster_course():
    # Starts at 08:00 in Seoul: 23:00 the day before in UTC.
    course = make_course(title="전략물자 수출통제 제도의 이해", starts=datetime(2027, 3, 10, 8, 0))
    seated, waiting = make_user(name="김수출"), make_user(name="=HYPERLINK(1)")
    for learner, status in (
        (seated, EnrollmentStatus.ENROLLED),
        (waiting, EnrollmentStatus.WAITING),
    ):
        # Signed up at 15:30 UTC on 1 February: half past midnight on the 2nd in Seoul.
        db.session.add(
            Enrollment(
                course_id=course.id,
                learner_id=learner.id,
                status=status,
                created_at=datetime(2027, 2, 1, 15, 30, tzinfo=UTC),
            )
        )
    db.session.commit()
    return course


def test_the_roster_workbook_has_its_header_first_and_its_title_in_the_properties(
    app, staff
) -> None:
    course = roster_course()
    book, sheet = sheet_of(download(staff, f"/courses/{course.id}/roster.xlsx"))
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == korean(app, *ROSTER_HEADER)
    assert [row[1] for row in rows[1:]] == ["김수출", "'=HYPERLINK(1)"]
    assert sheet.title == "전략물자 수출통제 제도의 이해" and sheet.title != "Sheet"
    # The local day of the start, not UTC's 9th.
    assert book.properties.title == "전략물자 수출통제 제도의 이해 (2027-03-10)"
    assert book.properties.subject == korean(app, "Roster")[0]
    for row in sheet.iter_rows(min_row=2):
        assert row[0].data_type == "n"  # the running number stays a number
        assert_date_cell(row[7], datetime(2027, 2, 2, 0, 30))


def test_the_roster_csv_has_one_charset_and_local_times(app, staff) -> None:
    course = roster_course()
    response = download(staff, f"/courses/{course.id}/roster.csv")
    assert_one_charset(response)
    header, *rows = csv_rows(response)
    assert header == korean(app, *ROSTER_HEADER)
    assert [row[7] for row in rows] == ["2027-02-02 00:30", "2027-02-02 00:30"]
    assert rows[1][1] == "'=HYPERLINK(1)"


# --- The survey answers ----------------------------------------------------------------------


ANSWERS_HEADER = (
    "Response",
    "Survey",
    "Course ID",
    "Course",
    "Start date",
    "Half-year",
    "No.",
    "Question",
    "Value",
    "Text",
    "Released below the batch size",
)


def answered_run(starts: datetime, *, title: str, comment: str):
    """A run of `title` that ended, with one learner's answered post-course survey."""
    course = make_course(title=title, starts=starts)
    learner = make_user()
    enrollment = Enrollment(
        course_id=course.id,
        learner_id=learner.id,
        status=EnrollmentStatus.ENROLLED,
        completed=True,
    )
    db.session.add(enrollment)
    db.session.commit()
    services.invite_course(course, notify=False)
    invitation = db.session.query(Invitation).filter_by(enrollment_id=enrollment.id).one()
    template = services.current_template(SurveyKind.POST_COURSE)
    answers = {}
    for question in template.questions:
        if question.type == QuestionType.LIKERT:
            answers[question.id] = 5 if question.metric == Metric.OVERALL else 4
        elif question.type == QuestionType.TEXT:
            answers[question.id] = comment
        else:
            answers[question.id] = []
    services.submit(invitation, answers)
    db.session.commit()
    return course


def two_runs_of_one_title():
    title = "상황허가(캐치올) 실무"
    # The first starts at 08:00 in Seoul, 23:00 the day before in UTC: its day is the 2nd.
    first = answered_run(datetime(2027, 3, 2, 8, 0), title=title, comment="첫 회차")
    second = answered_run(datetime(2027, 6, 15, 10, 0), title=title, comment="두 번째 회차")
    return first, second


def test_the_survey_workbook_names_each_course_run_by_id_and_start_date(app, staff) -> None:
    first, second = two_runs_of_one_title()
    assert local_to_utc(datetime(2027, 3, 2, 8, 0)).date() == date(2027, 3, 1)  # the premise
    book, sheet = sheet_of(download(staff, "/surveys/reports/2027/answers.xlsx"))
    header = [cell.value for cell in sheet[1]]
    assert header == korean(app, *ANSWERS_HEADER)
    assert sheet.title == korean(app, "Answers")[0] and sheet.title != "Sheet"
    assert book.properties.title  # what the file is, where no title row is needed
    course_id, start = 2, 4
    runs = {}
    for row in sheet.iter_rows(min_row=2):
        assert row[course_id].data_type == "n"
        assert_date_cell(row[start], datetime.combine(row[start].value.date(), time()))
        runs.setdefault(row[course_id].value, set()).add(row[start].value.date())
    assert runs == {first.id: {date(2027, 3, 2)}, second.id: {date(2027, 6, 15)}}
    comments = {row[9]: row[2] for row in sheet.iter_rows(min_row=2, values_only=True) if row[9]}
    assert comments == {"첫 회차": first.id, "두 번째 회차": second.id}


def test_the_survey_csv_names_each_course_run_and_has_one_charset(app, staff) -> None:
    first, second = two_runs_of_one_title()
    response = download(staff, "/surveys/reports/2027/answers.csv")
    assert_one_charset(response)
    header, *rows = csv_rows(response)
    assert header == korean(app, *ANSWERS_HEADER)
    assert {(row[2], row[3], row[4]) for row in rows} == {
        (str(first.id), "상황허가(캐치올) 실무", "2027-03-02"),
        (str(second.id), "상황허가(캐치올) 실무", "2027-06-15"),
    }
