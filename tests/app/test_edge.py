"""One edge for all input: each case here was a 500 (or a broken file) on the old code.

The property-based sweep over every route is `test_hostile_input.py`; these are the
regressions it grew from, one per root cause, readable on their own.
"""

from __future__ import annotations

import io
import xml.dom.minidom
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

import app.accounts.forms
import certificates.forms
import courses.forms
import surveys.forms
import visits.forms
from app.core.accounts.models import Role, User
from app.core.extensions import db
from app.core.forms import Form
from app.core.outbox import OutboxMessage
from app.core.timeutil import local_to_utc
from courses.models import Announcement, Material
from tests.conftest import login, post_form
from tests.factories import make_course, make_user
from visits.mentoring import DEFAULT_CHECKLIST
from visits.models import ChecklistItem

FORM_MODULES = [app.accounts.forms, certificates.forms, courses.forms, surveys.forms, visits.forms]


def count(model, *conditions) -> int:
    return db.session.execute(
        select(func.count()).select_from(model).where(*conditions)
    ).scalar_one()


def test_every_form_of_the_app_is_held_to_the_edge() -> None:
    from flask_wtf import FlaskForm

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    assert FORM_MODULES  # imported, so that every form class exists
    ours = [cls for cls in subclasses(FlaskForm) if not cls.__module__.startswith("flask_wtf")]
    assert len(ours) > 20
    assert [cls.__qualname__ for cls in ours if not issubclass(cls, Form)] == []


@pytest.mark.parametrize("course_id", [2**31, 2**63, 2**64, 10**30])
def test_an_id_no_column_can_hold_is_not_found(client, course_id: int) -> None:
    login(client, make_user(Role.STAFF).email)
    for url in (f"/courses/{course_id}", f"/courses/{course_id}/roster", "/calendar/99999999999"):
        assert client.get(url).status_code == 404, url


def test_unicode_digits_and_control_characters_in_the_query(client) -> None:
    api = client.get("/api/v1/courses?year=²")
    assert api.status_code == 400 and "error" in api.get_json()
    assert client.get("/api/v1/courses?year=2027").status_code == 200
    assert client.get("/courses/?year=²").status_code == 200  # a filter that does not apply
    for blank in ("+", "%E2%80%A8"):  # whitespace that Optional() would have waved through
        for name in ("audience", "size", "region", "format"):
            assert client.get(f"/courses/?{name}={blank}").status_code == 200, (name, blank)
    for query in ("q=%00", "q=a%0Db", "year=2027%00"):
        assert client.get(f"/courses/?{query}").status_code == 400, query
        assert client.get(f"/api/v1/courses?{query}").get_json()["status"] == 400


@pytest.mark.parametrize("value", ["김\x00교육", "김\r\n교육", "\x1b[31m", "a" * 5000])
def test_a_control_character_or_an_endless_name_is_a_field_error(client, value: str) -> None:
    response = post_form(
        client,
        "/auth/register",
        {
            "email": "edge@example.com",
            "name": value,
            "password": "a long enough password",
            "confirm": "a long enough password",
        },
    )
    assert response.status_code == 200 and 'class="error"' in response.get_data(as_text=True)
    assert count(User) == 0 and count(OutboxMessage) == 0


def test_line_ends_stay_text_in_a_text_area_but_a_nul_does_not(app) -> None:
    with app.test_request_context():
        for value, valid in (("1교시\r\n2교시\t실습", True), ("1교시\x00", False)):
            form = surveys.forms.MeetingForm(
                formdata=MultiDict({"held_on": "2027-05-01", "title": "간담회", "agenda": value}),
                meta={"csrf": False},
            )
            form.attendee_ids.choices = []
            assert form.validate() is valid, form.errors


@pytest.mark.parametrize(
    ("form_class", "data", "field"),
    [
        (visits.forms.QuoteForm, {"item_1": "강의료", "amount_1": str(10**20)}, "amount_1"),
        (visits.forms.QuoteForm, {"item_1": "강의료", "amount_1": "５"}, None),
        (surveys.forms.MeetingForm, {"held_on": "0001-01-01", "title": "간담회"}, "held_on"),
        (surveys.forms.MeetingForm, {"held_on": "9999-12-31", "title": "간담회"}, "held_on"),
    ],
)
def test_numbers_and_dates_stay_within_what_the_columns_hold(app, form_class, data, field) -> None:
    with app.test_request_context():
        form = form_class(formdata=MultiDict(data), meta={"csrf": False})
        if hasattr(form, "attendee_ids"):
            form.attendee_ids.choices = []
        valid = form.validate()
        assert valid is (field is None), form.errors
        if field:
            assert form.errors[field]


def test_a_cr_only_csv_and_an_oversize_field(client) -> None:
    contact = make_user(Role.COMPANY)
    course = make_course(starts=datetime.now() + timedelta(days=30))
    login(client, contact.email)

    def upload(data: bytes):
        return post_form(
            client,
            f"/courses/{course.id}/company",
            {"file": (io.BytesIO(data), "list.csv")},
            content_type="multipart/form-data",
        )

    response = upload(b"name,email\rKim,kim@hanbit.example.com\rLee,lee@hanbit.example.com\r")
    assert response.status_code == 200
    assert count(OutboxMessage) == 2

    oversize = b'"' + b"x" * (200 * 1024) + b'"\r\nkim@hanbit.example.com\r\n'
    response = upload(oversize)
    assert response.status_code == 200 and 'class="error"' in response.get_data(as_text=True)
    assert count(OutboxMessage) == 2  # nothing more sent, nothing lost


def test_checklist_rows_are_a_form_whatever_keys_arrive(client) -> None:
    login(client, make_user(Role.STAFF).email)
    assert client.get("/visits/mentoring/checklist-items").status_code == 200
    before = len(DEFAULT_CHECKLIST)  # seeded by the first save
    response = post_form(
        client, "/visits/mentoring/checklist-items", {"title-1-²": "x", "title-new": "신규 항목"}
    )
    assert response.status_code == 302
    assert count(ChecklistItem) == before + 1
    response = post_form(client, "/visits/mentoring/checklist-items", {"title-new": "a\x00"})
    assert response.status_code == 302 and count(ChecklistItem) == before + 1


def test_a_material_with_an_endless_file_name_is_a_message(client) -> None:
    teacher = make_user(Role.INSTRUCTOR)
    course = make_course(instructors=[teacher])
    login(client, teacher.email)
    response = post_form(
        client,
        f"/courses/{course.id}/materials",
        {"file": (io.BytesIO(b"pdf"), "교재" * 150 + ".pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code < 500
    assert count(Material) == 0


def test_the_survey_metric_is_one_the_page_offers(client) -> None:
    login(client, make_user(Role.STAFF).email)
    response = post_form(
        client,
        "/surveys/templates/post_course",
        {
            "title": "교육 만족도",
            "questions-0-text": "전반적으로 만족하십니까?",
            "questions-0-type": "likert",
            "questions-0-metric": "no-such-metric",
            "questions-²-text": "x",
        },
    )
    assert response.status_code == 200 and 'class="error"' in response.get_data(as_text=True)


def test_a_control_character_in_a_title_cannot_break_the_feed(client) -> None:
    course = make_course()
    db.session.add(
        Announcement(
            course_id=course.id,
            title="수출통제\x0b 교육\x01 안내",  # (PostgreSQL cannot even store a NUL)
            body="본문\x1b",
            published_at=local_to_utc(datetime(2027, 3, 1, 9, 0)),
        )
    )
    db.session.commit()
    response = client.get("/announcements.atom")
    assert response.status_code == 200
    document = xml.dom.minidom.parseString(response.data)
    titles = [node.firstChild.data for node in document.getElementsByTagName("title")]
    assert "수출통제 교육 안내" in titles
