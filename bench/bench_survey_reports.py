"""Benchmark: the survey reports (`surveys.services`) over 100,000 responses, SQLite and PostgreSQL.

Run from the repository root:  .venv/bin/python bench/bench_survey_reports.py

Each engine gets the same data, built from a fixed random seed: 200 published courses
ending in 2026 (a few instructors, course sizes skewed), 100,000 anonymous post-course
responses of the built-in template (five 5-point answers each, mostly 4 and 5; 0-2 ticks of
the multiple-choice question; a comment from about one in ten), one invitation per response
plus about 15 % left unanswered, and 3,000 half-yearly responses (2026H1 and 2026H2) with
their invitations. Rows go in with Core INSERTs in batches; the build is timed and printed,
but it is not the measurement. Then, engines taking turns run by run:

  year data          the yearly report's services: period_result(2026) + course_scores(2026)
                     + half_yearly_result('2026H1') + half_yearly_result('2026H2')
  course largest     course_result() of the course with the most responses
  course median      course_result() of the course with the median number of responses
  GET year page      GET /surveys/reports/2026 via app.test_client(), signed in as staff,
                     whole page rendered and read
  GET course page    GET /surveys/reports/course/<largest course>, likewise

Every report aggregates in SQL (GROUP BY), so the number of statements a page issues does
not depend on the number of responses or courses. The script counts them per page (the
request's own user lookup included), then replays each statement of the last request on
its own, rows fetched, and shows the slowest three with the service call that issued them
(e.g. `period_result > survey_result:586`, the innermost function's line). Checks,
any of which failing exits non-zero: period_result counts exactly the 100,000 responses
inserted, its satisfaction equals both one plain SQL AVG((value - 1) * 25) over the overall
question and the mean of the values generated here (to 1e-9), each half-year counts its
responses, course_result of the largest course counts its responses, and both pages answer
HTTP 200.

SQLite runs on a throw-away file in a temporary directory. PostgreSQL runs in a scratch
database (coursedesk_bench_<random>) created on the server of BENCH_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), analysed after the load (as autovacuum
would soon do) and dropped at the end; if that server cannot be reached, PostgreSQL is
skipped with a note and the script still succeeds.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Keep create_app from writing instance/secret_key in the checkout; nothing is signed here.
os.environ.setdefault("SECRET_KEY", "bench-not-a-secret")

from _support import (  # noqa: E402
    COMMENTS,
    LIKERT_PROFILES,
    PROFILE_WEIGHTS,
    Unreachable,
    count_released_answers,
    dispose,
    scratch_database,
)
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import event, insert, text  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402

from app import create_app  # noqa: E402
from app.config import normalise_database_url  # noqa: E402
from app.core.accounts.models import Role, User  # noqa: E402
from app.core.extensions import db  # noqa: E402
from app.core.timeutil import local_to_utc  # noqa: E402
from app.core.vocabulary import Region  # noqa: E402
from courses.models import (  # noqa: E402
    Audience,
    Course,
    CourseFormat,
    CourseStatus,
    SizeFocus,
)
from surveys import services  # noqa: E402
from surveys.models import (  # noqa: E402
    Answer,
    Invitation,
    Metric,
    QuestionType,
    Response,
    SurveyKind,
)

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
YEAR = 2026
COURSES = 200
INSTRUCTORS = 8
LEARNERS = 2_000
RESPONSES = 100_000
HALF_RESPONSES = 1_500  # per half-year
RESPONSE_RATE = 0.85  # answered share of the invitations
COMMENT_SHARE = 0.10
BATCH = 5_000  # rows per executemany
SEED = 20260101
WARMUP = 1
REPETITIONS = 7
# Stop repeating early rather than run for minutes on a very slow or overloaded machine.
MEASURE_TIME_BUDGET_S = 90.0
CHECK_TOLERANCE = 1e-9

#: Answer distributions of a 5-point question (weights of 1..5): most courses go down well.
TICKS = ((0, 1, 2), (30, 45, 25))  # how many topics the multiple-choice question gets
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
MEASUREMENTS = (
    "year data",
    "course largest",
    "course median",
    "GET year page",
    "GET course page",
)
PAGES = ("GET year page", "GET course page")
TOP_STATEMENTS = 3
REPLAYS = 2  # each recorded statement is run again this often, the best time kept

T = TypeVar("T")


class CheckFailed(Exception):
    pass


@dataclass
class Built:
    """What the data build inserted, for the checks and the report."""

    seconds: float = 0.0
    answers: int = 0
    invitations: int = 0
    half_responses: dict[str, int] = field(default_factory=dict)
    per_course: dict[int, int] = field(default_factory=dict)  # course id → responses
    overall: Counter[int] = field(default_factory=Counter)  # value → count (overall question)

    @property
    def largest(self) -> int:
        return max(self.per_course, key=lambda course_id: (self.per_course[course_id], -course_id))

    @property
    def median(self) -> int:
        ranked = sorted(
            self.per_course, key=lambda course_id: (self.per_course[course_id], course_id)
        )
        return ranked[len(ranked) // 2]


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: object
    #: The service functions that issued it, outermost first, with the line of the innermost.
    origin: str


@dataclass
class StatementLog:
    """Every SQL statement the engine runs while `on`, with the service call it came from."""

    on: bool = False
    statements: list[Statement] = field(default_factory=list)

    def attach(self, engine) -> None:
        event.listen(engine, "before_cursor_execute", self.before)

    def before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.on:
            self.statements.append(Statement(statement, parameters, origin()))

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[Statement]]:
        self.statements = []
        self.on = True
        try:
            yield self.statements
        finally:
            self.on = False


def origin() -> str:
    """'period_result > survey_result:472': the *services.py functions on the stack."""
    names = []
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if code.co_filename.endswith("services.py") and code.co_filename.startswith(str(ROOT)):
            names.append(code.co_name if names else f"{code.co_name}:{frame.f_lineno}")
        frame = frame.f_back
    return " > ".join(reversed(names)) or "(outside the services)"


@dataclass
class Target:
    name: str
    app: Flask
    built: Built
    client: FlaskClient | None = None
    log: StatementLog = field(default_factory=StatementLog)
    times: dict[str, list[float]] = field(default_factory=dict)
    #: Page → the statements of its last request, each with its time replayed (ms).
    statements: dict[str, list[tuple[Statement, float]]] = field(default_factory=dict)
    satisfaction: float | None = None

    def add(self, name: str, ms: float) -> None:
        self.times.setdefault(name, []).append(ms)


def timed(work: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = work()
    return (time.perf_counter() - start) * 1000, result


def main() -> int:
    postgres_url = normalise_database_url(
        os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL)
    )
    password = secrets.token_urlsafe(16)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="coursedesk-bench-"))
        try:
            targets = [
                set_up("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", password, stack)
            ]
            versions = [f"SQLite {sqlite3.sqlite_version}"]
            skipped = None
            try:
                scratch_url, server_version = stack.enter_context(scratch_database(postgres_url))
            except Unreachable as error:
                skipped = str(error)
            else:
                targets.append(set_up("PostgreSQL", scratch_url, password, stack))
                versions.append(f"PostgreSQL {server_version}")
            for target in targets:
                check(target)
            measure(targets)
        except CheckFailed as error:
            print(f"survey report check failed: {error}", file=sys.stderr)
            return 1
    report(targets, versions, skipped)
    return 0


def set_up(name: str, url: str, password: str, stack: contextlib.ExitStack) -> Target:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-not-a-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
        }
    )
    stack.callback(dispose, app)
    with app.app_context():
        db.create_all()
        built = build(password)
        if db.engine.dialect.name == "postgresql":
            # A freshly loaded table has no statistics until autovacuum gets to it.
            start = time.perf_counter()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
            built.seconds += time.perf_counter() - start
        target = Target(name, app, built)
        target.log.attach(db.engine)
        db.session.remove()
    target.client = app.test_client()
    sign_in(target.client, "staff@example.com", password)
    return target


# --- Data --------------------------------------------------------------------------------


def build(password: str) -> Built:
    """Users, courses and templates through the ORM; responses, answers and invitations
    with Core INSERTs in batches. The same seed gives every engine the same data."""
    rng = random.Random(SEED)
    built = Built()
    start = time.perf_counter()
    staff = User(email="staff@example.com", name="김하늘", role=Role.STAFF)
    staff.set_password(password)  # scrypt once; everybody else shares the hash
    instructors = [
        User(
            email=f"instructor{n}@example.com",
            name=f"강사{n}",
            role=Role.INSTRUCTOR,
            password_hash=staff.password_hash,
        )
        for n in range(INSTRUCTORS)
    ]
    db.session.add_all([staff, *instructors])
    db.session.flush()
    courses = make_courses(rng, instructors)
    post_course = services.current_template(SurveyKind.POST_COURSE)
    half_yearly = services.current_template(SurveyKind.HALF_YEARLY)
    post_questions = [(q.id, q.type, q.metric) for q in post_course.questions]
    half_questions = [(q.id, q.type, q.metric) for q in half_yearly.questions]
    post_template_id, half_template_id = post_course.id, half_yearly.id
    password_hash = staff.password_hash
    db.session.commit()
    db.session.remove()

    with db.engine.begin() as conn:
        learner_ids = insert_learners(conn, password_hash)
        sizes = course_sizes(rng)
        inserter = BatchInserter(conn)
        for (course_id, ends_at), size in zip(courses, sizes, strict=True):
            likert = LIKERT_PROFILES[rng.choices(range(3), PROFILE_WEIGHTS)[0]]
            for _ in range(size):
                response_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
                inserter.response(response_id, post_template_id, SurveyKind.POST_COURSE, course_id)
                for question_id, qtype, metric in post_questions:
                    value = answer_rows(rng, inserter, response_id, question_id, qtype, likert)
                    if metric == Metric.OVERALL:
                        built.overall[value] += 1
            built.per_course[course_id] = size
            invited = round(size / RESPONSE_RATE)
            for n in range(invited):
                inserter.invitation(
                    SurveyKind.POST_COURSE,
                    rng.choice(learner_ids),
                    sent_at=ends_at + timedelta(hours=2),
                    answered_on=(ends_at + timedelta(days=rng.randint(0, 9))).date()
                    if n < size
                    else None,
                    course_id=course_id,
                )
        for part, answered_on in (("H1", date(YEAR, 7, 8)), ("H2", date(YEAR + 1, 1, 12))):
            half = f"{YEAR}{part}"
            for _ in range(HALF_RESPONSES):
                response_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
                inserter.response(response_id, half_template_id, SurveyKind.HALF_YEARLY, None, half)
                for question_id, qtype, _metric in half_questions:
                    answer_rows(rng, inserter, response_id, question_id, qtype, LIKERT_PROFILES[1])
            built.half_responses[half] = HALF_RESPONSES
            invited = rng.sample(learner_ids, round(HALF_RESPONSES / RESPONSE_RATE))
            sent_at = local_to_utc(datetime.combine(answered_on, datetime.min.time()))
            for n, learner_id in enumerate(invited):
                inserter.invitation(
                    SurveyKind.HALF_YEARLY,
                    learner_id,
                    sent_at=sent_at - timedelta(days=7),
                    answered_on=answered_on if n < HALF_RESPONSES else None,
                    half=half,
                )
        inserter.flush()
        count_released_answers(conn)
    built.answers, built.invitations = inserter.answers, inserter.invitations
    built.seconds = time.perf_counter() - start
    return built


def make_courses(rng: random.Random, instructors: list[User]) -> list[tuple[int, datetime]]:
    """COURSES published one-day courses spread over the year, each with one instructor."""
    first = date(YEAR, 1, 5)
    courses = []
    for n in range(COURSES):
        day = first + timedelta(days=n * 355 // COURSES)
        starts_at = local_to_utc(datetime(day.year, day.month, day.day, 10, 0))
        courses.append(
            Course(
                year=YEAR,
                title=f"전략물자 수출통제 실무 {n + 1:03d}",
                summary="수출통제 제도의 기본을 익힙니다.",
                content="1교시 제도 개요\n2교시 판정 절차",
                audience=Audience.PRACTITIONERS,
                size_focus=SizeFocus.ALL,
                format=rng.choice([CourseFormat.CLASSROOM, CourseFormat.ONLINE]),
                region=Region.SEOUL,
                venue="서울 강남구 교육장",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=7),
                hours=Decimal("6"),
                capacity=30,
                status=CourseStatus.PUBLISHED,
                instructors=[instructors[n % len(instructors)]],
            )
        )
    db.session.add_all(courses)
    db.session.flush()
    return [(course.id, course.ends_at) for course in courses]


def course_sizes(rng: random.Random) -> list[int]:
    """RESPONSES split over the courses, skewed (log-normal weights), at least 3 each."""
    weights = [rng.lognormvariate(0, 0.8) for _ in range(COURSES)]
    scale = (RESPONSES - 3 * COURSES) / sum(weights)
    sizes = [3 + int(weight * scale) for weight in weights]
    for n in range(RESPONSES - sum(sizes)):  # the rounding remainder, one each
        sizes[n % COURSES] += 1
    return sizes


def insert_learners(conn: Connection, password_hash: str) -> list[int]:
    rows = [
        {
            "email": f"learner{n}@example.com",
            "name": f"수강생{n}",
            "role": Role.LEARNER,
            "password_hash": password_hash,
            "session_token": f"bench-token-{n}",
        }
        for n in range(LEARNERS)
    ]
    conn.execute(insert(User.__table__), rows)
    return list(
        conn.execute(text("SELECT id FROM users WHERE role = 'learner' ORDER BY id")).scalars()
    )


def answer_rows(rng, inserter, response_id, question_id, qtype, likert) -> int | None:
    """The answer rows of one question; returns the value of a 5-point answer."""
    if qtype == QuestionType.LIKERT:
        value = rng.choices(range(1, 6), likert)[0]
        inserter.answer(response_id, question_id, 0, value, None)
        return value
    if qtype == QuestionType.SINGLE:
        inserter.answer(response_id, question_id, 0, rng.randint(1, 5), None)
    elif qtype == QuestionType.MULTIPLE:
        ticks = rng.choices(*TICKS)[0]
        for choice in sorted(rng.sample(range(1, 6), ticks)):
            inserter.answer(response_id, question_id, choice, choice, None)
    elif rng.random() < COMMENT_SHARE:
        inserter.answer(response_id, question_id, 0, None, rng.choice(COMMENTS))
    return None


class BatchInserter:
    """Collects rows and inserts them BATCH at a time (responses before their answers)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.responses: list[dict] = []
        self.answer_rows: list[dict] = []
        self.invitation_rows: list[dict] = []
        self.answers = 0
        self.invitations = 0

    def response(self, response_id, template_id, kind, course_id, half=None) -> None:
        self.responses.append(
            {
                "id": response_id,
                "template_id": template_id,
                "kind": kind,
                "course_id": course_id,
                "half": half,
            }
        )

    def answer(self, response_id, question_id, choice, value, answer_text) -> None:
        self.answer_rows.append(
            {
                "response_id": response_id,
                "question_id": question_id,
                "choice": choice,
                "value": value,
                "text": answer_text,
            }
        )
        self.answers += 1
        if len(self.answer_rows) >= BATCH:
            self.flush_answers()

    def invitation(self, kind, learner_id, *, sent_at, answered_on, course_id=None, half=None):
        self.invitation_rows.append(
            {
                "token": secrets.token_urlsafe(24),
                "kind": kind,
                "learner_id": learner_id,
                "enrollment_id": None,  # unique: left empty, no enrolments are built
                "course_id": course_id,
                "half": half,
                "sent_at": sent_at,
                "reminders_sent": 0,
                "answered_on": answered_on,
            }
        )
        self.invitations += 1
        if len(self.invitation_rows) >= BATCH:
            self.flush_invitations()

    def flush_answers(self) -> None:
        if self.responses:
            self.conn.execute(insert(Response.__table__), self.responses)
            self.responses = []
        if self.answer_rows:
            self.conn.execute(insert(Answer.__table__), self.answer_rows)
            self.answer_rows = []

    def flush_invitations(self) -> None:
        if self.invitation_rows:
            self.conn.execute(insert(Invitation.__table__), self.invitation_rows)
            self.invitation_rows = []

    def flush(self) -> None:
        self.flush_answers()
        self.flush_invitations()


# --- Checks ------------------------------------------------------------------------------


def check(target: Target) -> None:
    built = target.built
    with target.app.app_context():
        year = services.period_result(*services.year_bounds(YEAR))
        if year.responses != RESPONSES:
            raise CheckFailed(
                f"{target.name}: period_result counts {year.responses} responses, "
                f"{RESPONSES} were inserted"
            )
        by_sql = db.session.execute(
            text(
                "SELECT AVG((a.value - 1) * 25.0) FROM survey_answers a"
                " JOIN survey_questions q ON q.id = a.question_id"
                " JOIN survey_responses r ON r.id = a.response_id"
                " WHERE q.metric = 'overall' AND r.kind = 'post_course'"
            )
        ).scalar_one()
        generated = sum((value - 1) * 25.0 * count for value, count in built.overall.items())
        generated /= built.overall.total()
        for what, expected in (("plain SQL", float(by_sql)), ("the generated values", generated)):
            if year.satisfaction is None or abs(year.satisfaction - expected) > CHECK_TOLERANCE:
                raise CheckFailed(
                    f"{target.name}: yearly satisfaction {year.satisfaction!r}, "
                    f"{what} gives {expected!r}"
                )
        for half, count in built.half_responses.items():
            found = services.half_yearly_result(half).responses
            if found != count:
                raise CheckFailed(f"{target.name}: {half} counts {found} responses, not {count}")
        largest = services.course_result(built.largest).responses
        if largest != built.per_course[built.largest]:
            raise CheckFailed(
                f"{target.name}: course {built.largest} counts {largest} responses, "
                f"{built.per_course[built.largest]} were inserted"
            )
        rows = services.course_scores(*services.year_bounds(YEAR))
        if len(rows) != COURSES or sum(row.responses for row in rows) != RESPONSES:
            raise CheckFailed(f"{target.name}: course_scores does not add up to the data")
        target.satisfaction = year.satisfaction
        db.session.remove()


# --- Measuring ---------------------------------------------------------------------------


def sign_in(client: FlaskClient, email: str, password: str) -> None:
    """POST the login form with the page's CSRF token, as a browser does."""
    page = client.get("/auth/login").get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    if match is None:
        raise CheckFailed("no CSRF token on /auth/login")
    response = client.post(
        "/auth/login",
        data={"csrf_token": match.group(1), "email": email, "password": password},
    )
    if response.status_code != 302:
        raise CheckFailed(f"signing in {email}: HTTP {response.status_code}")


def year_data() -> None:
    start, end = services.year_bounds(YEAR)
    services.period_result(start, end)
    services.course_scores(start, end)
    services.half_yearly_result(f"{YEAR}H1")
    services.half_yearly_result(f"{YEAR}H2")


def in_app_context(app: Flask, work: Callable[[], object]) -> Callable[[], None]:
    """`work` in its own app context and session, as one request would have it."""

    def run() -> None:
        with app.app_context():
            try:
                work()
            finally:
                db.session.remove()

    return run


def get_page(client: FlaskClient, url: str) -> Callable[[], None]:
    def run() -> None:
        response = client.get(url)
        try:
            body = response.get_data()
        finally:
            response.close()
        if response.status_code != 200 or not body:
            raise CheckFailed(f"GET {url}: HTTP {response.status_code}")

    return run


def measure(targets: list[Target]) -> None:
    """Alternate engines run by run. A page's statements are recorded on every run; the
    report shows those of the last one."""
    runs = {}
    for target in targets:
        built = target.built
        runs[target.name] = {
            "year data": in_app_context(target.app, year_data),
            "course largest": in_app_context(
                target.app, lambda c=built.largest: services.course_result(c)
            ),
            "course median": in_app_context(
                target.app, lambda c=built.median: services.course_result(c)
            ),
            "GET year page": get_page(target.client, f"/surveys/reports/{YEAR}"),
            "GET course page": get_page(target.client, f"/surveys/reports/course/{built.largest}"),
        }
    deadline = time.perf_counter() + MEASURE_TIME_BUDGET_S
    for repetition in range(WARMUP + REPETITIONS):
        for target in targets:
            for name in MEASUREMENTS:
                with target.log.recording() as statements:
                    elapsed, _result = timed(runs[target.name][name])
                if name in PAGES:
                    target.statements[name] = [(statement, 0.0) for statement in statements]
                if repetition >= WARMUP:
                    target.add(name, elapsed)
        if repetition >= WARMUP + 2 and time.perf_counter() > deadline:
            break
    for target in targets:
        replay(target)


def replay(target: Target) -> None:
    """Time each statement of each page's last request alone, rows fetched, best of
    REPLAYS: the cursor's execute returns at the first row (SQLite streams a GROUP BY), so
    event hooks around it would miss most of the work."""
    with target.app.app_context(), db.engine.connect() as conn:
        for name, statements in target.statements.items():
            timings = []
            for statement, _ms in statements:
                best = min(
                    timed(lambda s=statement: conn.exec_driver_sql(s.sql, s.parameters).all())[0]
                    for _ in range(REPLAYS)
                )
                timings.append((statement, best))
            target.statements[name] = timings


# --- Report ------------------------------------------------------------------------------


def report(targets: list[Target], versions: list[str], skipped: str | None) -> None:
    first = targets[0]
    runs = len(first.times[MEASUREMENTS[0]])
    built = first.built
    print(
        f"survey reports: {COURSES} courses of {YEAR}, {RESPONSES:,} post-course responses "
        f"({built.answers:,} answers with the half-yearly ones, {built.invitations:,} "
        f"invitations), {sum(built.half_responses.values()):,} half-yearly; "
        f"{', '.join(versions)}; {runs} runs after {WARMUP} warm-up"
    )
    print(
        "data build (not measured): "
        + ", ".join(f"{target.name} {target.built.seconds:.1f} s" for target in targets)
    )
    print(
        f"courses: largest #{built.largest} ({built.per_course[built.largest]:,} responses), "
        f"median #{built.median} ({built.per_course[built.median]:,} responses); "
        f"yearly satisfaction {first.satisfaction:.4f} points (checked)"
    )
    print(f"{'':<30}{'median ms':>10}{'min ms':>10}{'max ms':>10}")
    for target in targets:
        for name in MEASUREMENTS:
            samples = target.times[name]
            print(
                f"{target.name + ' ' + name:<30}{statistics.median(samples):>10.1f}"
                f"{min(samples):>10.1f}{max(samples):>10.1f}"
            )
    print(
        f"SQL statements per page (last run; each replayed alone with its rows fetched, best "
        f"of {REPLAYS}; the {TOP_STATEMENTS} slowest shown):"
    )
    for target in targets:
        for name in PAGES:
            timings = target.statements[name]
            total = sum(ms for _statement, ms in timings)
            print(f"{target.name} {name}: {len(timings)} statements, {total:.0f} ms in SQL")
            slowest = sorted(timings, key=lambda timing: timing[1], reverse=True)
            for statement, ms in slowest[:TOP_STATEMENTS]:
                print(f"{ms:>10.1f} ms  {statement.origin}")
    if skipped:
        print(skipped)
        return
    sqlite, postgres = targets
    ratios = []
    for name in MEASUREMENTS:
        ratio = statistics.median(sqlite.times[name]) / statistics.median(postgres.times[name])
        ratios.append(f"{name} {ratio:.2f}")
    print(f"SQLite/PostgreSQL (median time): {', '.join(ratios)}")


if __name__ == "__main__":
    sys.exit(main())
