"""Standard 10: a person downloads all their data and can have it deleted."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.core.accounts.models import User
from app.core.extensions import db
from courses import enrolment
from courses.models import Course, Enrollment, EnrollmentStatus, Subscriber
from tests.conftest import login, post_form
from tests.factories import PASSWORD, make_course, make_user


def test_the_data_export_holds_the_persons_data_and_only_theirs(client) -> None:
    learner = make_user(name="김수출", phone="010-1111-2222")
    other = make_user(name="남의사람")
    course = make_course(title="상황허가(캐치올) 실무", starts=datetime.now() + timedelta(days=10))
    enrolment.enroll(course, learner, by=learner)
    enrolment.enroll(course, other, by=other)
    db.session.commit()
    assert client.get("/me/data.json").status_code == 302
    login(client, learner.email)
    data = client.get("/me/data.json").get_json()
    assert data["account"]["email"] == learner.email and data["account"]["phone"] == "010-1111-2222"
    assert [e["course"] for e in data["enrolments"]] == ["상황허가(캐치올) 실무"]
    assert "남의사람" not in str(data)


def test_deleting_requires_the_password_and_removes_what_identifies_the_person(app, client) -> None:
    learner = make_user(name="김수출", email="kim@example.com", phone="010-1111-2222")
    waiting = make_user()
    course = make_course(starts=datetime.now() + timedelta(days=10), capacity=1)
    enrolment.enroll(course, learner, by=learner)
    enrolment.enroll(course, waiting, by=waiting)
    db.session.add(
        Subscriber(email="kim@example.com", token="s", confirmed_at=datetime.now().astimezone())
    )
    db.session.commit()
    login(client, learner.email)

    refused = post_form(client, "/me/delete", {"password": "wrong password"})
    assert refused.status_code == 200 and 'class="error"' in refused.get_data(as_text=True)
    assert db.session.get(User, learner.id).email == "kim@example.com"

    assert post_form(client, "/me/delete", {"password": PASSWORD}).status_code == 302
    db.session.expire_all()
    gone = db.session.get(User, learner.id)
    assert gone.email != "kim@example.com" and gone.name != "김수출" and gone.phone is None
    assert not gone.active
    assert db.session.execute(select(func.count()).select_from(Subscriber)).scalar_one() == 0
    assert enrolment.find_enrollment(course.id, waiting.id).status == EnrollmentStatus.ENROLLED
    assert db.session.get(Course, course.id).seats_taken == 1
    fresh = app.test_client()
    response = post_form(fresh, "/auth/login", {"email": "kim@example.com", "password": PASSWORD})
    assert response.status_code == 200  # no such account any more
    assert client.get("/me/").status_code == 302  # and the old session is over
    assert (
        db.session.execute(
            select(func.count()).select_from(Enrollment).where(Enrollment.learner_id == learner.id)
        ).scalar_one()
        == 1
    )  # the row stays for the course's statistics, detached from the person


def test_deleting_inside_the_cancellation_cut_off_frees_the_seat_for_the_next_person(
    app, client
) -> None:
    """Past the cut-off a learner may not cancel, but erasure still releases the seat."""
    learner = make_user(name="박마감", email="park@example.com")
    waiting = make_user()
    course = make_course(starts=datetime.now() + timedelta(days=1), capacity=1)
    enrolment.enroll(course, learner, by=learner)
    enrolment.enroll(course, waiting, by=waiting)
    db.session.commit()
    assert not enrolment.can_cancel(enrolment.find_enrollment(course.id, learner.id), course)
    login(client, learner.email)

    response = post_form(client, "/me/delete", {"password": PASSWORD})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, learner.id).email != "park@example.com"
    assert enrolment.find_enrollment(course.id, learner.id).status == EnrollmentStatus.CANCELLED
    assert enrolment.find_enrollment(course.id, waiting.id).status == EnrollmentStatus.ENROLLED
    assert db.session.get(Course, course.id).seats_taken == 1
