"""Benchmark: the enrolment path (`courses.enrolment.enroll`) on SQLite and PostgreSQL.

Run from the repository root:  .venv/bin/python bench/bench_enrolment.py

Every run enrols 300 learners into a fresh published course with 200 seats, so 200 take a
seat and 100 join the waiting list: both paths of `enroll`, including the course-row lock
and the waiting-list position. One enrolment is the database side of a learner enrolling
themselves, without the request, login and CSRF around it: load the course and the learner
by id, then `enroll(course, learner, by=learner)`, which commits.

  sequential  one thread does all 300 enrolments
  8 threads   eight threads share the 300 enrolments, each in its own app context and
              session, all contending for the same course row

The result is enrolments per second (higher is better). Each run is checked afterwards
(no errors, seats_taken == 200, 200 enrolled, 100 waiting at positions 1..100); the script
exits non-zero if a check fails.

SQLite runs on a throw-away file in a temporary directory. PostgreSQL runs in a scratch
database (coursedesk_bench_<random>) created on the server of BENCH_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test) and dropped at the end; if that server
cannot be reached, PostgreSQL is skipped with a note and the script still succeeds. The
engines take turns run by run, so drift on a busy machine hits both alike and the
SQLite/PostgreSQL ratio of medians is steadier than either rate.
"""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Keep create_app from writing instance/secret_key in the checkout; nothing is signed here.
os.environ.setdefault("SECRET_KEY", "bench-not-a-secret")

from _support import Unreachable, dispose, scratch_database  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from app import create_app  # noqa: E402
from app.config import normalise_database_url  # noqa: E402
from app.core.accounts.models import Role, User  # noqa: E402
from app.core.extensions import db  # noqa: E402
from app.core.timeutil import to_local, utcnow  # noqa: E402
from app.core.vocabulary import Region  # noqa: E402
from courses import enrolment  # noqa: E402
from courses.models import (  # noqa: E402
    Audience,
    Course,
    CourseFormat,
    CourseStatus,
    Enrollment,
    EnrollmentStatus,
    SizeFocus,
)

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LEARNERS = 300
CAPACITY = 200
THREADS = 8
MODES = (("sequential", 1), (f"{THREADS} threads", THREADS))
WARMUP = 1
REPETITIONS = 5


class CheckFailed(Exception):
    pass


@dataclass
class Target:
    name: str
    app: Flask
    learner_ids: list[int]
    rates: dict[str, list[float]] = field(default_factory=dict)


def main() -> int:
    postgres_url = normalise_database_url(
        os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL)
    )
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="coursedesk-bench-"))
        targets = [set_up("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", stack)]
        versions = [f"SQLite {sqlite3.sqlite_version}"]
        skipped = None
        try:
            scratch_url, server_version = stack.enter_context(scratch_database(postgres_url))
        except Unreachable as error:
            skipped = str(error)
        else:
            targets.append(set_up("PostgreSQL", scratch_url, stack))
            versions.append(f"PostgreSQL {server_version}")
        try:
            measure(targets)
        except CheckFailed as error:
            print(f"enrolment check failed: {error}", file=sys.stderr)
            return 1
    report(targets, versions, skipped)
    return 0


def set_up(name: str, url: str, stack: contextlib.ExitStack) -> Target:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-not-a-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            # Enough connections for every thread at once, as in tests/courses/test_concurrency.
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10, "max_overflow": 10},
        }
    )
    stack.callback(dispose, app)
    with app.app_context():
        db.create_all()
        learner_ids = make_learners(LEARNERS)
        db.session.remove()
    return Target(name, app, learner_ids)


def make_learners(count: int) -> list[int]:
    """One Core INSERT with a single precomputed hash (scrypt costs tens of ms per call)."""
    password_hash = generate_password_hash(secrets.token_urlsafe(16), method="scrypt")
    db.session.execute(
        insert(User),
        [
            {
                "email": f"bench{n}@example.com",
                "name": f"수강생{n}",
                "role": Role.LEARNER,
                "password_hash": password_hash,
                "session_token": f"bench-token-{n}",
            }
            for n in range(count)
        ],
    )
    db.session.commit()
    return list(db.session.execute(select(User.id).order_by(User.id)).scalars())


def new_course(app: Flask) -> int:
    """A published course starting in 30 days, with CAPACITY seats and nobody enrolled."""
    with app.app_context():
        starts_at = utcnow().replace(microsecond=0) + timedelta(days=30)
        course = Course(
            year=to_local(starts_at).year,
            title=f"벤치마크 과정 {secrets.token_hex(3)}",
            summary="수출통제 제도의 기본을 익힙니다.",
            content="1교시 제도 개요\n2교시 판정 절차",
            audience=Audience.PRACTITIONERS,
            size_focus=SizeFocus.ALL,
            format=CourseFormat.CLASSROOM,
            region=Region.SEOUL,
            venue="서울 강남구 교육장",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=7),
            hours=Decimal("6"),
            capacity=CAPACITY,
            status=CourseStatus.PUBLISHED,
        )
        db.session.add(course)
        db.session.commit()
        course_id = course.id
        db.session.remove()
    return course_id


def enrol_all(
    app: Flask, course_id: int, learner_ids: list[int], threads: int
) -> tuple[float, list]:
    """Enrol every learner from `threads` threads; return seconds and per-enrolment outcomes.

    An outcome is the waiting-list position (None for a seat) or the exception raised.
    The clock starts when all threads stand ready in their app contexts.
    """
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for learner_id in learner_ids:
        todo.put(learner_id)
    ready = threading.Barrier(threads + 1, timeout=60)
    outcomes: list = []

    def work() -> None:
        with app.app_context():
            ready.wait()
            try:
                while True:
                    try:
                        learner_id = todo.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        course = db.session.get(Course, course_id)
                        learner = db.session.get(User, learner_id)
                        result = enrolment.enroll(course, learner, by=learner)
                    except Exception as error:  # reported by check(), not swallowed
                        db.session.rollback()
                        outcomes.append(error)
                    else:
                        outcomes.append(result.waiting_position)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start, outcomes


def check(app: Flask, course_id: int, outcomes: list) -> None:
    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    if errors:
        raise CheckFailed(f"{len(errors)} enrolments raised, the first: {errors[0]!r}")
    positions = sorted(outcome for outcome in outcomes if outcome is not None)
    with app.app_context():
        seats_taken = db.session.execute(
            select(Course.seats_taken).where(Course.id == course_id)
        ).scalar_one()
        statuses = Counter(
            dict(
                db.session.execute(
                    select(Enrollment.status, func.count())
                    .where(Enrollment.course_id == course_id)
                    .group_by(Enrollment.status)
                ).all()
            )
        )
        db.session.remove()
    waiting = LEARNERS - CAPACITY
    found = (
        seats_taken,
        statuses[EnrollmentStatus.ENROLLED],
        statuses[EnrollmentStatus.WAITING],
        len(outcomes),
    )
    if found != (CAPACITY, CAPACITY, waiting, LEARNERS) or sum(statuses.values()) != LEARNERS:
        raise CheckFailed(
            f"course {course_id}: seats_taken {seats_taken}, statuses {dict(statuses)}, "
            f"{len(outcomes)} outcomes; expected {CAPACITY} seats taken, {CAPACITY} enrolled "
            f"and {waiting} waiting"
        )
    if positions != list(range(1, waiting + 1)):
        raise CheckFailed(f"course {course_id}: waiting positions are not 1..{waiting}")


def measure(targets: list[Target]) -> None:
    """Alternate engines and modes run by run; each run gets a fresh course."""
    for repetition in range(WARMUP + REPETITIONS):
        for mode, threads in MODES:
            for target in targets:
                course_id = new_course(target.app)
                elapsed, outcomes = enrol_all(target.app, course_id, target.learner_ids, threads)
                check(target.app, course_id, outcomes)
                if repetition >= WARMUP:
                    target.rates.setdefault(mode, []).append(LEARNERS / elapsed)


def report(targets: list[Target], versions: list[str], skipped: str | None) -> None:
    print(
        f"enrolment (courses.enrolment.enroll): {LEARNERS} learners into {CAPACITY} seats per "
        f"run; {', '.join(versions)}; {REPETITIONS} runs after {WARMUP} warm-up"
    )
    print(f"{'enrolments/s':<24}{'median':>10}{'min':>10}{'max':>10}")
    for target in targets:
        for mode, _ in MODES:
            rates = target.rates[mode]
            print(
                f"{target.name + ' ' + mode:<24}{statistics.median(rates):>10.0f}"
                f"{min(rates):>10.0f}{max(rates):>10.0f}"
            )
    if skipped:
        print(skipped)
        return
    sqlite, postgres = targets
    ratios = []
    for mode, _ in MODES:
        ratio = statistics.median(sqlite.rates[mode]) / statistics.median(postgres.rates[mode])
        ratios.append(f"{mode} {ratio:.2f}")
    print(f"SQLite/PostgreSQL (median enrolments/s): {', '.join(ratios)}")


if __name__ == "__main__":
    sys.exit(main())
