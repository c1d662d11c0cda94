"""Survey anonymity, attacked the way the outside review did (issue #10).

The attacker is a staff member who can open every page and export and run SQL on every
table, system columns included (`xmin`/`ctid` on PostgreSQL, `rowid` on SQLite), but does
not hold SECRET_KEY. The guarantee: no answer is tied to a person better than 1 in k, k
being the release batch (5 here, the default).
"""

from __future__ import annotations

import io
import re
import secrets
import threading
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import Date, DateTime, func, inspect, select
from sqlalchemy import text as sql

from app.core.accounts.models import Role, User
from app.core.extensions import db
from app.core.timeutil import local_today, utcnow
from courses.models import Enrollment, EnrollmentStatus
from surveys import sealing, services
from surveys.models import (
    Answer,
    Invitation,
    Metric,
    PendingAnswers,
    QuestionType,
    Response,
    SurveyKind,
)
from tests.conftest import POSTGRES_URL, login, post_form
from tests.factories import make_course, make_user

K = 5


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "SURVEY_RELEASE_BATCH": K}


# --- Helpers ------------------------------------------------------------------------------


def ended_course(**fields):
    return make_course(starts=datetime.now() - timedelta(days=5), **fields)


def attendees(course, number: int, *, completed: bool | None = True) -> list[Enrollment]:
    enrollments = [
        Enrollment(
            course_id=course.id,
            learner_id=make_user().id,
            status=EnrollmentStatus.ENROLLED,
            completed=completed,
        )
        for _ in range(number)
    ]
    db.session.add_all(enrollments)
    db.session.commit()
    return enrollments


def invited(course, number: int, **fields) -> list[Invitation]:
    """`number` attendees of the course, invited; in the order they will answer."""
    people = attendees(course, number, **fields)
    services.invite_course(course, notify=False)
    db.session.commit()
    return [invitation_for(person) for person in people]


def invitation_for(enrollment: Enrollment) -> Invitation:
    return db.session.execute(
        select(Invitation).where(Invitation.enrollment_id == enrollment.id)
    ).scalar_one()


def answers(comment: str, overall: int = 4) -> dict:
    """Post-course answers that the comment tells apart."""
    template = services.current_template(SurveyKind.POST_COURSE)
    result = {}
    for question in template.questions:
        if question.type == QuestionType.LIKERT:
            result[question.id] = overall if question.metric == Metric.OVERALL else 4
        elif question.type == QuestionType.TEXT:
            result[question.id] = comment
    return result


def form_data(comment: str, overall: int = 4) -> dict:
    return {
        f"q{question_id}": str(value) for question_id, value in answers(comment, overall).items()
    }


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def physical_order(table: str, columns: str) -> list[tuple]:
    """The rows in storage order, as an attacker with SQL reads it: by `ctid` on
    PostgreSQL, by `rowid` on SQLite."""
    order = "ctid" if is_postgres() else "rowid"
    return [
        tuple(row)
        for row in db.session.execute(sql(f"SELECT {columns} FROM {table} ORDER BY {order}"))
    ]


def comment_of(response_id: str) -> str:
    return db.session.execute(
        select(Answer.text).where(Answer.response_id == response_id, Answer.text.is_not(None))
    ).scalar_one()


def later(days: int = services.WINDOW_DAYS + 1) -> datetime:
    return utcnow() + timedelta(days=days)


class RecordingShuffler:
    """The real shuffler (the system's randomness), recording what each release shuffled."""

    def __init__(self) -> None:
        self.real = secrets.SystemRandom()
        self.batches: list[tuple[list[str], list[str]]] = []

    @staticmethod
    def _comments(payloads: list[dict]) -> list[str]:
        return [next(text for *_, text in payload["a"] if text) for payload in payloads]

    def shuffle(self, payloads: list[dict]) -> None:
        before = self._comments(payloads)
        self.real.shuffle(payloads)
        self.batches.append((before, self._comments(payloads)))


@pytest.fixture
def shuffler(monkeypatch) -> RecordingShuffler:
    assert isinstance(services._shuffler, secrets.SystemRandom)
    recording = RecordingShuffler()
    monkeypatch.setattr(services, "_shuffler", recording)
    return recording


# --- Batches ------------------------------------------------------------------------------


def test_answers_wait_sealed_until_k_have_gathered_then_go_out_together(app) -> None:
    course = ended_course()
    invitations = invited(course, K + 1)
    for number, invitation in enumerate(invitations[: K - 1]):
        services.submit(invitation, answers(f"의견 {number}"))
        db.session.commit()
        assert count(Response) == 0 and count(Answer) == 0
        assert count(PendingAnswers) == number + 1
    db.session.expire_all()
    assert all(i.submitted and i.answered_on is None for i in invitations[: K - 1])
    assert services.course_result(course.id).responses == 0

    services.submit(invitations[K - 1], answers("의견 마지막"))
    db.session.commit()
    db.session.expire_all()
    assert count(Response) == K and count(PendingAnswers) == 0
    assert {i.answered_on for i in invitations[:K]} == {local_today()}
    assert invitations[K].answered_on is None and not invitations[K].submitted
    result = services.course_result(course.id)
    assert (result.responses, result.invitations, result.small_batch) == (K, K + 1, 0)


def test_a_used_link_is_refused_before_its_answers_are_released(client) -> None:
    (invitation,) = invited(ended_course(), 1)
    assert post_form(client, f"/surveys/{invitation.token}", form_data("처음")).status_code == 200
    again = post_form(client, f"/surveys/{invitation.token}", form_data("두 번째"))
    assert again.status_code == 409 and count(PendingAnswers) == 1
    assert client.get(f"/surveys/{invitation.token}").status_code == 409
    with pytest.raises(services.AlreadyAnswered):
        services.submit(db.session.get(Invitation, invitation.id), answers("세 번째"))
    learner = db.session.get(User, invitation.learner_id)
    assert services.surveys_due(learner) == []  # the learner is not asked again


def test_the_survey_window_releases_what_is_left_below_k_and_the_report_says_so(client) -> None:
    teacher = make_user(Role.INSTRUCTOR)
    course = ended_course(instructors=[teacher])
    invitations = invited(course, 8)
    for number, invitation in enumerate(invitations[:3]):
        services.submit(invitation, answers(f"창 안의 의견 {number}"))
    db.session.commit()
    assert services.release_due() == 0  # the window is open: they wait
    closes = services.window_closes(services.Scope.of(invitations[0]))
    last_sent = max(invitation.sent_at for invitation in invitations)
    assert closes == last_sent + timedelta(days=services.WINDOW_DAYS)
    assert services.release_due(now=closes - timedelta(minutes=1)) == 0
    assert services.release_due(now=closes) == 3
    db.session.commit()
    result = services.course_result(course.id)
    assert (result.responses, result.small_batch) == (3, 3)
    login(client, teacher.email)
    page = client.get(f"/surveys/reports/course/{course.id}").get_data(as_text=True)
    assert "3건" in page and f"{K}건보다 적은" in page

    # After the close, late answers wait until k of them have gathered: never alone.
    for number, invitation in enumerate(invitations[3:]):
        assert services.release_due(now=later(60)) == 0
        services.submit(invitation, answers(f"늦은 의견 {number}"), now=later())
        db.session.commit()
        assert count(Response) == (3 + K if number == K - 1 else 3)
    result = services.course_result(course.id)
    assert (result.responses, result.small_batch) == (3 + K, 3)


def test_half_yearly_answers_are_batched_per_round(app) -> None:
    course = make_course(starts=datetime(2027, 3, 10, 10, 0))
    attendees(course, K)
    services.invite_half_yearly("2027H1")
    db.session.commit()
    template = services.current_template(SurveyKind.HALF_YEARLY)
    helpful, usage, comment = template.questions
    rounds = db.session.execute(select(Invitation).order_by(Invitation.id)).scalars().all()
    for number, invitation in enumerate(rounds):
        assert services.half_yearly_result("2027H1").responses == 0
        services.submit(invitation, {helpful.id: 5, usage.id: 1, comment.id: f"반기 {number}"})
    assert services.half_yearly_result("2027H1").responses == K
    assert count(PendingAnswers) == 0


def test_answers_waiting_in_the_box_keep_their_template_version(app) -> None:
    course = ended_course()
    invitations = invited(course, K + 2)
    for invitation in invitations[:2]:
        services.submit(invitation, answers("옛 설문"))
    old = services.current_template(SurveyKind.POST_COURSE)
    assert services.has_responses(old)  # sealed answers use its questions
    specs = [
        services.QuestionSpec(q.text, q.type, q.required, q.options, q.metric)
        for q in old.questions
    ]
    new = services.save_template(
        SurveyKind.POST_COURSE, title="새 설문", intro="", questions=specs, by=make_user(Role.STAFF)
    )
    assert new.id != old.id and [q.id for q in old.questions]  # the old questions stay
    for invitation in invitations[2:]:
        services.submit(invitation, answers("새 설문"))
    # A batch never mixes versions (whose change a reader could date): the new one went out.
    assert count(Response) == K
    assert db.session.execute(select(Response.template_id).distinct()).scalars().all() == [new.id]
    assert services.release_due(now=later()) == 2
    assert count(PendingAnswers) == 0
    assert (
        db.session.execute(
            select(func.count()).where(Response.template_id == old.id, Response.small_batch)
        ).scalar_one()
        == 2
    )


def test_the_cli_releases_due_answers(app) -> None:
    course = ended_course()
    invitations = invited(course, 2)
    for invitation in invitations:
        services.submit(invitation, answers("CLI"))
    db.session.commit()
    runner = app.test_cli_runner()
    assert "0 answers released" in runner.invoke(args=["surveys", "invite-post-course"]).output
    for invitation in invitations:  # the window closes 14 days after the invitations
        invitation.sent_at = invitation.sent_at - timedelta(days=services.WINDOW_DAYS)
    db.session.commit()
    output = runner.invoke(args=["surveys", "release-due"]).output
    assert "Survey answers released: 2." in output
    db.session.expire_all()
    assert count(Response) == 2 and count(PendingAnswers) == 0


# --- The sealed box -----------------------------------------------------------------------


def test_sealed_answers_hide_their_text_and_all_have_one_length(app) -> None:
    course = ended_course()
    comments = [
        "",
        "강의가 실무에 바로 도움이 되었습니다",
        "판정 실습이 부족했습니다 " * 150,
        "😀" * 4000,
    ]
    for invitation, comment in zip(invited(course, K), comments, strict=False):
        services.submit(invitation, answers(comment, overall=5))
    sealed = db.session.execute(select(PendingAnswers.sealed)).scalars().all()
    template = services.current_template(SurveyKind.POST_COURSE)
    assert len(sealed) == len(comments) == K - 1
    assert {len(blob) for blob in sealed} == {sealing.sealed_size(template)}
    for blob in sealed:
        for comment in filter(None, comments):
            for encoding in ("utf-8", "utf-16-le", "utf-16-be", "unicode_escape"):
                assert comment[:16].encode(encoding) not in blob
    # The worst case fits the same size: every character of every text at its longest
    # in JSON (a control character, 6 bytes).
    worst = {
        "a": [
            [question.id, 0, None, "\x01" * sealing.MAX_TEXT_LENGTH]
            if question.type == QuestionType.TEXT
            else [question.id, 0, 5, None]
            for question in template.questions
        ]
    }
    group = services.Scope.of(db.session.execute(select(Invitation)).scalars().first()).seal_group(
        template.id
    )
    blob = sealing.seal(worst, size=sealing.padded_size(template), group=group)
    assert len(blob) == sealing.sealed_size(template)
    assert sealing.open_sealed(blob, group=group) == worst


def test_sealed_answers_open_only_with_the_servers_key_and_in_their_own_group(app) -> None:
    invitation, _ = invited(ended_course(), 2)
    services.submit(invitation, answers("비밀 의견"))
    row = db.session.execute(select(PendingAnswers)).scalar_one()
    scope = services.Scope.of(invitation)
    group = scope.seal_group(row.template_id)
    assert sealing.open_sealed(row.sealed, group=group)["a"][-1][-1] == "비밀 의견"
    with pytest.raises(sealing.SealBroken):  # another group: moving the row does not work
        sealing.open_sealed(row.sealed, group=scope.seal_group(row.template_id + 1))

    app.config["SECRET_KEY"] = "someone-elses-key"
    with pytest.raises(sealing.SealBroken):
        sealing.open_sealed(row.sealed, group=group)
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret-key"]  # a rotated key still opens
    assert sealing.open_sealed(row.sealed, group=group)["a"][-1][-1] == "비밀 의견"


def test_a_row_that_does_not_open_is_kept_and_not_counted_towards_k(app, caplog) -> None:
    invitations = invited(ended_course(), K + 1)
    services.submit(invitations[0], answers("열리지 않음"))
    db.session.execute(
        PendingAnswers.__table__.update().values(
            sealed=b"\0" * len(db.session.execute(select(PendingAnswers.sealed)).scalar_one())
        )
    )
    for invitation in invitations[1:K]:
        services.submit(invitation, answers("보통"))
    assert count(Response) == 0 and count(PendingAnswers) == K  # only 4 open: below k
    services.submit(invitations[K], answers("보통"))
    assert count(Response) == K and count(PendingAnswers) == 1
    assert "do not open" in caplog.text


# --- Attack 1: system columns ---------------------------------------------------------------


def test_storage_order_of_released_answers_is_the_codes_shuffle(app, shuffler) -> None:
    """Over several batches answered in a known order, the storage order of what is
    released (rowid or ctid, responses and answers alike) is exactly the order the
    system-random shuffle made, and the box is empty: nothing follows the submissions."""
    course = ended_course()
    batches = 4
    invitations = invited(course, K * batches)
    for batch in range(batches):
        submitted = []
        for number, invitation in enumerate(invitations[batch * K : (batch + 1) * K]):
            comment = f"배치 {batch} 응답 {number}"
            services.submit(invitation, answers(comment))
            submitted.append(comment)
            db.session.commit()
        assert count(PendingAnswers) == 0
        shuffled_in, shuffled_out = shuffler.batches[batch]
        assert sorted(shuffled_in) == sorted(submitted) == sorted(shuffled_out)

        stored = [
            comment_of(response_id) for (response_id,) in physical_order("survey_responses", "id")
        ][batch * K :]
        assert stored == shuffled_out
        answer_rows = physical_order("survey_answers", "response_id")
        response_runs = [
            r for i, (r,) in enumerate(answer_rows) if i == 0 or answer_rows[i - 1][0] != r
        ]
        assert [comment_of(r) for r in response_runs][batch * K :] == shuffled_out
        if is_postgres():  # the command number within the transaction follows the same order
            by_command = db.session.execute(
                sql(
                    "SELECT id FROM survey_responses "
                    "ORDER BY xmin::text::bigint, cmin::text::int, ctid"
                )
            ).scalars()
            assert [comment_of(r) for r in by_command][batch * K :] == shuffled_out
    assert len(shuffler.batches) == batches


def test_response_ids_are_fresh_random_ids(app) -> None:
    invitations = invited(ended_course(), K)
    for invitation in invitations[:-1]:
        services.submit(invitation, answers("아이디"))
    box_ids = set(db.session.execute(select(PendingAnswers.id)).scalars())
    services.submit(invitations[-1], answers("아이디"))
    ids = db.session.execute(select(Response.id)).scalars().all()
    assert len(set(ids)) == K and not set(ids) & box_ids  # no id of the box comes back
    assert all(re.fullmatch(r"[0-9a-f]{12}4[0-9a-f]{19}", i) for i in ids)  # uuid4: random


@pytest.mark.skipif(not POSTGRES_URL, reason="xmin and ctid are PostgreSQL's")
def test_xmin_ties_a_response_to_its_batch_never_to_one_person(app) -> None:
    """The review joined survey_responses.xmin to survey_invitations.xmin and matched each
    response to exactly one person; now every response of a batch meets the same people,
    the whole batch."""
    course = ended_course()
    batches = 2
    invitations = invited(course, K * batches + 1)
    for invitation in invitations[: K * batches]:
        services.submit(invitation, answers(f"xmin {invitation.id}"))
        db.session.commit()

    def candidates(response_id: str, table: str, scope: str) -> frozenset[int]:
        return frozenset(
            db.session.execute(
                sql(
                    f"SELECT t.id FROM {table} t, survey_responses r "
                    f"WHERE r.id = :id AND t.xmin = r.xmin AND {scope}"
                ),
                {"id": response_id, "course": course.id},
            ).scalars()
        )

    responses = db.session.execute(select(Response.id)).scalars().all()
    alike: dict[tuple, set[str]] = {}  # what the join says → the responses it says it of
    for response_id in responses:
        people = (
            candidates(response_id, "survey_invitations", "t.course_id = :course"),
            candidates(response_id, "enrollments", "t.course_id = :course"),
        )
        alike.setdefault(people, set()).add(response_id)
    # Each answer the join could point at is one of K that it points at alike; and the
    # invitations it names are the whole batch.
    assert sorted(len(group) for group in alike.values()) == [K] * batches
    assert all(len(invitations) == K for invitations, _ in alike)
    # Answers share their response's transaction: no finer grouping either.
    xmins = (
        db.session.execute(
            sql(
                "SELECT count(DISTINCT a.xmin::text) FROM survey_answers a "
                "JOIN survey_responses r ON r.id = a.response_id GROUP BY r.xmin::text"
            )
        )
        .scalars()
        .all()
    )
    assert xmins == [1] * batches
    # And ctid: the stored order of each batch is no order of submission (see above); the
    # box leaves nothing behind to compare with.
    assert count(PendingAnswers) == 0


@pytest.mark.skipif(not POSTGRES_URL, reason="concurrent writers need PostgreSQL")
def test_two_answers_at_once_release_one_batch_once(app) -> None:
    """The k-th and the (k+1)-th answer arrive together: one batch of k goes out, once,
    and the other answer waits (the scope lock), rather than two overlapping releases.
    (The course is not closed: no certificate, whose serial counter would serialise them.)"""
    invitations = invited(ended_course(), K + 1, completed=None)
    for invitation in invitations[: K - 1]:
        services.submit(invitation, answers("먼저"))
    db.session.commit()
    last_two = [
        (invitation.id, answers(f"동시 {invitation.id}")) for invitation in invitations[K - 1 :]
    ]
    barrier = threading.Barrier(len(last_two))
    errors: list[BaseException] = []

    def answer(invitation_id: int, given: dict) -> None:
        with app.app_context():
            try:
                invitation = db.session.get(Invitation, invitation_id)
                barrier.wait(timeout=10)
                services.submit(invitation, given)
                db.session.commit()
            except BaseException as error:  # reported below, in the test's thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=answer, args=pair) for pair in last_two]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    db.session.expire_all()
    assert (count(Response), count(PendingAnswers)) == (K, 1)
    answered = db.session.execute(
        select(func.count()).where(Invitation.answered_on.is_not(None))
    ).scalar_one()
    assert answered == K


# --- Attack 2: timestamps -------------------------------------------------------------------


def timestamps() -> dict[str, dict[tuple, tuple]]:
    """Every date and time column of every table, row by row (keyed by primary key)."""
    snapshot = {}
    for table in db.metadata.sorted_tables:
        columns = [
            column
            for column in table.columns
            if isinstance(column.type, Date | DateTime)
            or isinstance(getattr(column.type, "impl", None), Date | DateTime)
        ]
        if not columns:
            continue
        key = list(table.primary_key.columns)
        rows = db.session.execute(select(*key, *columns)).all()
        snapshot[table.name] = {tuple(row[: len(key)]): tuple(row[len(key) :]) for row in rows}
    return snapshot


def test_submitting_changes_no_timestamp_anywhere(app) -> None:
    """The course is not closed yet, so no certificate is due: a submission leaves every
    date and time column of every table as it was, `updated_at` included."""
    course = ended_course()
    invitations = invited(course, K, completed=None)
    tables_with_time = {
        table.name
        for table in db.metadata.sorted_tables
        if any(
            isinstance(c.type, Date | DateTime)
            or isinstance(getattr(c.type, "impl", None), Date | DateTime)
            for c in table.columns
        )
    }
    assert not {"survey_pending_answers", "survey_responses", "survey_answers"} & tables_with_time
    for invitation in invitations[: K - 1]:
        before = timestamps()
        services.submit(invitation, answers("시각"))
        db.session.commit()
        assert timestamps() == before
        enrollment = db.session.get(Enrollment, invitation.enrollment_id)
        assert enrollment.survey_submitted  # the certificate gate, without a day

    before = timestamps()
    services.submit(invitations[-1], answers("시각"))
    db.session.commit()
    after = timestamps()
    # The release stamps one day on the whole batch, and changes nothing else.
    changed = {table for table in after if after[table] != before[table]}
    assert changed == {"survey_invitations"}
    days = {after["survey_invitations"][(i.id,)][1] for i in invitations}
    assert days == {local_today()}


def test_the_certificate_does_not_wait_for_the_release(app) -> None:
    """A completed learner's certificate is issued at submission: its row is new, but no
    existing row's time changes, and the answers stay in the box."""
    staff = make_user(Role.STAFF)
    course = ended_course()
    course.closed_at, course.closed_by_id = course.ends_at, staff.id
    db.session.commit()
    (invitation, *_) = invited(course, 2)
    before = timestamps()
    services.submit(invitation, answers("수료증"))
    db.session.commit()
    after = timestamps()
    for table, rows in before.items():
        for key, values in rows.items():
            assert after[table][key] == values, (table, key)
    new_rows = {table for table in after if set(after[table]) - set(before[table])}
    assert "certificates" in new_rows and new_rows <= {"certificates", "outbox", "audit_log"}
    from certificates import services as certificates

    assert certificates.valid_certificate(invitation.enrollment_id) is not None
    assert count(Response) == 0 and count(PendingAnswers) == 1


# --- Attack 3: before and after each submission ----------------------------------------------


CSRF_VALUE = re.compile(r'(?<=name="csrf_token" value=")[^"]+')


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def staff_view(client, course, instructor) -> dict:
    """Everything a staff member can see of the surveys: every report page, PDF and export,
    the not-answered list, the dashboard, and the report tables through SQL."""

    def page(url: str) -> str:
        response = client.get(url)
        assert response.status_code == 200, url
        # The CSRF token is signed with the time of the request; nothing else may differ.
        return CSRF_VALUE.sub("", response.get_data(as_text=True))

    def binary(url: str) -> bytes:
        response = client.get(url)
        assert response.status_code == 200, url
        return response.data

    year = course.year
    book = load_workbook(io.BytesIO(binary(f"/surveys/reports/{year}/answers.xlsx")))
    system = "ctid::text, xmin::text" if is_postgres() else "rowid"
    return {
        "course": page(f"/surveys/reports/course/{course.id}"),
        "course.pdf": pdf_text(binary(f"/surveys/reports/course/{course.id}.pdf")),
        "year": page(f"/surveys/reports/{year}"),
        "year.pdf": pdf_text(binary(f"/surveys/reports/{year}.pdf")),
        "instructor": page(f"/surveys/reports/instructor/{instructor.id}?year={year}"),
        "not answered": page(f"/surveys/reports/course/{course.id}/pending"),
        "answers.csv": binary(f"/surveys/reports/{year}/answers.csv"),
        "answers.xlsx": [list(row) for row in book.active.iter_rows(values_only=True)],
        "dashboard": page("/staff/"),
        "sql responses": sorted(
            map(tuple, db.session.execute(sql(f"SELECT {system}, * FROM survey_responses")))
        ),
        "sql answers": sorted(
            map(tuple, db.session.execute(sql(f"SELECT {system}, * FROM survey_answers")))
        ),
        "sql answered": sorted(
            map(tuple, db.session.execute(sql("SELECT id, answered_on FROM survey_invitations")))
        ),
    }


def test_nothing_a_staff_member_sees_changes_until_a_release(client, app, shuffler) -> None:
    instructor = make_user(Role.INSTRUCTOR)
    course = ended_course(title="상황허가(캐치올) 실무", instructors=[instructor])
    invitations = invited(course, K + 1)
    staff = app.test_client()
    login(staff, make_user(Role.STAFF).email)
    staff.get("/staff/")  # shows (and so clears) the welcome message
    learner = app.test_client()

    start = staff_view(staff, course, instructor)
    for number, invitation in enumerate(invitations[: K - 1]):
        answered = post_form(learner, f"/surveys/{invitation.token}", form_data(f"응답 {number}"))
        assert answered.status_code == 200
        assert staff_view(staff, course, instructor) == start, f"changed after answer {number}"

    answered = post_form(learner, f"/surveys/{invitations[K - 1].token}", form_data("응답 4"))
    assert answered.status_code == 200
    released = staff_view(staff, course, instructor)
    assert released["course"] != start["course"] and f"{K}건" in released["course"]
    export = released["answers.csv"].decode("utf-8-sig")
    response_ids = re.findall(r"^([0-9a-f]{32}),", export, flags=re.MULTILINE)
    assert len(set(response_ids)) == K
    # The export lists responses by their random ids, the storage by the shuffle.
    assert list(dict.fromkeys(response_ids)) == sorted(set(response_ids))
    ((_, shuffled),) = shuffler.batches
    assert [comment_of(r) for (r,) in physical_order("survey_responses", "id")] == shuffled

    # The not-answered list lost the whole batch at once.
    def listed(invitation: Invitation, view: dict) -> bool:
        return (
            f"<li>{db.session.get(User, invitation.learner_id).name}</li>" in view["not answered"]
        )

    assert all(listed(invitation, start) for invitation in invitations)
    assert [listed(invitation, released) for invitation in invitations] == [False] * K + [True]


def test_an_answer_is_not_stored_with_its_invitation(app) -> None:
    """What the old code did, and this test would catch: the response was written in the
    invitation's transaction, so it appeared at once, and on PostgreSQL its xmin equalled
    that one invitation's. Now nothing appears at once, the box row names nobody, and after
    the release each response shares its xmin with all K invitations of its batch."""
    invitations = invited(ended_course(), K)
    services.submit(invitations[0], answers("혼자"))
    db.session.commit()
    assert count(Response) == 0 and count(Answer) == 0
    row = db.session.execute(select(PendingAnswers)).scalar_one()
    person = {"learner_id", "enrollment_id", "invitation_id", "token", "created_at"}
    assert not person & {c.key for c in inspect(PendingAnswers).columns}
    assert row.after_close is False

    for invitation in invitations[1:]:
        services.submit(invitation, answers("함께"))
        db.session.commit()
    assert count(Response) == K
    if is_postgres():
        matches = db.session.execute(
            sql(
                "SELECT count(i.id) FROM survey_responses r "
                "LEFT JOIN survey_invitations i ON i.xmin = r.xmin GROUP BY r.id"
            )
        ).scalars()
        assert list(matches) == [K] * K
