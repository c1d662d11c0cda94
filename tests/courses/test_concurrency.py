"""Seats, announcements and mail under real concurrency, on the real database engine."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from app.core.accounts.models import Role, User
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from app.core.timeutil import utcnow
from app.core.unit_of_work import unit_of_work
from courses import announcements, enrolment
from courses.models import Announcement, Course, Enrollment, EnrollmentStatus, Subscriber
from tests.conftest import POSTGRES_URL, _config
from tests.factories import _password_hash, make_course

LEARNERS = 200
SEATS = 30


@pytest.fixture
def app_config(database_url: str) -> dict:
    config = _config(database_url)
    # Enough connections for the threads to really overlap (PostgreSQL allows 100 by default).
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 10, "max_overflow": 40, "pool_timeout": 120}
    return config


def make_learners(count: int) -> list[int]:
    db.session.execute(
        insert(User),
        [
            {
                "email": f"racer{n}@example.com",
                "name": f"경쟁자{n}",
                "role": Role.LEARNER,
                "password_hash": _password_hash(),
                "session_token": f"token-{n}",
                "email_verified_at": utcnow(),
            }
            for n in range(count)
        ],
    )
    db.session.commit()
    return list(db.session.execute(select(User.id).order_by(User.id)).scalars())


def run_together(app, count: int, work) -> list:
    """Run `work(i)` in `count` threads released at the same moment; return results or errors."""
    barrier = threading.Barrier(count)

    def job(index: int):
        with app.app_context():
            barrier.wait()
            try:
                with unit_of_work():  # each thread is one action, committed once, as a request
                    return work(index)
            except Exception as error:  # reported, not swallowed: the test asserts on it
                return error
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(job, range(count)))


def test_200_concurrent_enrolments_fill_30_seats_and_queue_the_rest(app) -> None:
    course_id = make_course(starts=datetime.now() + timedelta(days=20), capacity=SEATS).id
    learner_ids = make_learners(LEARNERS)

    def enrol(index: int):
        course = db.session.get(Course, course_id)
        learner = db.session.get(User, learner_ids[index])
        return enrolment.enroll(course, learner, by=learner)

    results = run_together(app, LEARNERS, enrol)

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    db.session.expire_all()
    statuses = Counter(db.session.execute(select(Enrollment.status)).scalars())
    assert statuses == {
        EnrollmentStatus.ENROLLED: SEATS,
        EnrollmentStatus.WAITING: LEARNERS - SEATS,
    }
    assert db.session.get(Course, course_id).seats_taken == SEATS
    positions = sorted(r.waiting_position for r in results if r.waiting_position is not None)
    assert positions == list(range(1, LEARNERS - SEATS + 1))


def test_concurrent_cancellations_promote_distinct_learners_in_order(app) -> None:
    course_id = make_course(starts=datetime.now() + timedelta(days=20), capacity=10).id
    learner_ids = make_learners(25)
    course = db.session.get(Course, course_id)
    for learner_id in learner_ids:
        learner = db.session.get(User, learner_id)
        enrolment.enroll(course, learner, by=learner)
    db.session.commit()
    holders = learner_ids[:10]
    queue = [e.learner_id for e in enrolment.waiting_list(course_id)]

    def cancel(index: int):
        learner = db.session.get(User, holders[index])
        promoted = enrolment.cancel(enrolment.find_enrollment(course_id, learner.id), by=learner)
        return [e.learner_id for e in promoted]

    results = run_together(app, len(holders), cancel)

    assert [r for r in results if isinstance(r, Exception)] == []
    promoted = sorted(learner_id for ids in results for learner_id in ids)
    assert promoted == sorted(queue[:10])
    db.session.expire_all()
    assert db.session.get(Course, course_id).seats_taken == 10
    assert db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 10


def subscribe_confirmed(count: int) -> None:
    for n in range(count):
        db.session.add(
            Subscriber(
                email=f"reader{n}@example.com",
                token=f"t{n}",
                confirmed_at=datetime.now().astimezone(),
            )
        )
    db.session.add(Subscriber(email="unconfirmed@example.com", token="t-unconfirmed"))
    db.session.commit()


def test_announce_due_twice_yields_one_announcement_and_one_mail_per_subscriber(app) -> None:
    make_course(starts=datetime.now() + timedelta(days=10))
    make_course(starts=datetime.now() + timedelta(days=60))  # not due yet
    subscribe_confirmed(3)

    first = app.test_cli_runner().invoke(args=["announce-due"])
    second = app.test_cli_runner().invoke(args=["announce-due"])

    assert first.exit_code == 0 and "1 announced" in first.output, first.output
    assert "0 announced" in second.output
    assert db.session.execute(select(func.count()).select_from(Announcement)).scalar_one() == 1
    recipients = Counter(db.session.execute(select(OutboxMessage.to_address)).scalars())
    assert recipients == {f"reader{n}@example.com": 1 for n in range(3)}


@pytest.mark.skipif(not POSTGRES_URL, reason="two cron runs at once need a server database")
def test_two_announce_runs_at_once_on_postgresql_announce_once(app) -> None:
    for days in (8, 9, 10, 11):
        make_course(starts=datetime.now() + timedelta(days=days))
    subscribe_confirmed(5)

    reports = run_together(app, 4, lambda _: announcements.announce_due())

    assert [r for r in reports if isinstance(r, Exception)] == []
    assert sum(r.published for r in reports) == 4
    assert db.session.execute(select(func.count()).select_from(Announcement)).scalar_one() == 4
    per_recipient = Counter(db.session.execute(select(OutboxMessage.to_address)).scalars())
    assert per_recipient == {f"reader{n}@example.com": 4 for n in range(5)}
