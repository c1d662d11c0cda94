"""The survey reports read tallies kept by each release: they must always equal a count of
the released answers, and the reports computed from them the figures of the answers given."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text

from app.core.extensions import db
from app.core.timeutil import utcnow
from surveys import services
from surveys.models import (
    Answer,
    ReleasedCount,
    Response,
    Tally,
)
from tests.surveys.test_surveys import answers_with, attendee, ended_course, invitation_for

K = 3
MIGRATION = Path(__file__).parents[2] / "migrations" / "versions" / "0012_survey_tallies.py"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "SURVEY_RELEASE_BATCH": K}


def recounted() -> tuple[dict, dict]:
    """(tallies, released counts) computed afresh from the released answers."""
    scope = (Response.kind, Response.course_id, Response.half)
    tallies = {
        (kind.value, course_id, half, question_id, value): count
        for kind, course_id, half, question_id, value, count in db.session.execute(
            select(*scope, Answer.question_id, Answer.value, func.count())
            .join(Answer, Answer.response_id == Response.id)
            .where(Answer.value.is_not(None))
            .group_by(*scope, Answer.question_id, Answer.value)
        )
    }
    released = {
        (kind.value, course_id, half, template_id): (count, int(small or 0))
        for kind, course_id, half, template_id, count, small in db.session.execute(
            select(
                *scope,
                Response.template_id,
                func.count(),
                func.sum(func.cast(Response.small_batch, db.Integer)),
            ).group_by(*scope, Response.template_id)
        )
    }
    return tallies, released


def kept() -> tuple[dict, dict]:
    tallies = {
        (t.kind.value, t.course_id, t.half, t.question_id, t.value): t.count
        for t in db.session.execute(select(Tally)).scalars()
    }
    released = {
        (r.kind.value, r.course_id, r.half, r.template_id): (r.responses, r.small_batch)
        for r in db.session.execute(select(ReleasedCount)).scalars()
    }
    return tallies, released


submission = st.tuples(
    st.integers(min_value=0, max_value=2),  # which of three courses
    st.integers(min_value=1, max_value=5),  # the overall answer
    st.lists(st.integers(min_value=1, max_value=3), max_size=3, unique=True),
    st.sampled_from(["", "강의가 유익했습니다"]),
)


@settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(submissions=st.lists(submission, min_size=1, max_size=7))
def test_tallies_equal_the_released_answers_and_reports_their_figures(app, submissions) -> None:
    courses = [ended_course() for _ in range(3)]
    people = {c.id: [] for c in courses}
    for course_index, *_ in submissions:
        people[courses[course_index].id].append(attendee(courses[course_index]))
    services.invite_post_course()
    db.session.commit()
    handed = {c.id: list(people[c.id]) for c in courses}
    given_overall = {c.id: [] for c in courses}
    for course_index, overall, ticks, comment in submissions:
        course = courses[course_index]
        enrollment = handed[course.id].pop()
        services.submit(
            invitation_for(enrollment), answers_with(overall, ticks=ticks, comment=comment)
        )
        db.session.commit()
        given_overall[course.id].append(overall)
        assert kept() == recounted()  # after every submission, released or not
    services.release_due(now=utcnow() + timedelta(days=365))  # every window closed
    db.session.commit()
    assert kept() == recounted()

    for course in courses:
        result = services.course_result(course.id)
        overall = given_overall[course.id]
        assert result.responses == len(overall)
        if overall:
            mean = sum((value - 1) * 25 for value in overall) / len(overall)
            assert result.satisfaction == pytest.approx(mean)
        else:
            assert result.satisfaction is None
        assert result.small_batch == len(overall) % K  # the rest, released at the close


def test_the_migration_counts_what_was_released_before_it(app) -> None:
    """Migration 0012 starts the tallies from the answers already released: its SQL, run
    on this engine, gives what the releases kept."""
    course = ended_course()
    people = [attendee(course) for _ in range(K + 1)]
    services.invite_post_course()
    for number, person in enumerate(people):
        services.submit(
            invitation_for(person), answers_with(1 + number % 5, ticks=[1, 2], comment="좋았습니다")
        )
    services.release_due(now=utcnow() + timedelta(days=365))
    db.session.commit()
    before = kept()
    assert before == recounted() and before[0]

    db.session.execute(delete(Tally))
    db.session.execute(delete(ReleasedCount))
    spec = importlib.util.spec_from_file_location("migration_0012", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration.op = SimpleNamespace(execute=lambda sql: db.session.execute(text(sql)))
    migration._count_what_was_released()
    db.session.commit()
    assert kept() == before
