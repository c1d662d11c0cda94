"""Surveys: invitations, sealed submission, batched release, and the KPIs of standard 8.

Submitting seals the answers into the pending box; they reach the report tables only in
shuffled batches of at least k per group (`SURVEY_RELEASE_BATCH`), or when the survey
window closes (see surveys/models.py for the threat model and the guarantee).

Services flush and never commit: the request or the CLI command commits once.

Every report aggregates in SQL (GROUP BY over answers), so its cost does not grow with a
loop over responses and the number of statements a report page issues stays the same
whatever the number of courses.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, delete, exists, func, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError

from app.core import audit, outbox
from app.core.accounts.models import User
from app.core.errors import DomainError
from app.core.extensions import db, insert_adding_on_conflict, insert_ignoring_conflicts
from app.core.links import external_url
from app.core.timeutil import local_to_utc, local_today, local_year_bounds, utcnow
from courses import attendance
from courses.models import (
    Attendance,
    AttendanceStatus,
    Course,
    CourseSession,
    CourseStatus,
    Enrollment,
    EnrollmentStatus,
    course_instructors,
)
from surveys.defaults import DEFAULT_TEMPLATES
from surveys.models import (
    MAX_TEXT_LENGTH,
    Answer,
    Invitation,
    Metric,
    PendingAnswers,
    Question,
    QuestionType,
    ReleasedCount,
    Response,
    SurveyKind,
    SurveyTemplate,
    Tally,
    new_response_id,
)
from surveys.sealing import SealBroken, open_sealed, padded_size, seal

log = logging.getLogger(__name__)

#: The charter's targets (standard 8).
SATISFACTION_TARGET = 80.0  # points of 100
HELPFULNESS_TARGET = 80.0  # percent answering 4 or 5
#: Below this many responses a report hides free-text comments (they could identify someone).
MIN_RESPONSES_FOR_COMMENTS = 3
REMINDER_DAYS = (3, 7)
#: A survey's window closes this many days after its last invitation went out, so 7 days
#: after the last reminder of a post-course survey. Answers still waiting then are
#: released even below k (and flagged); later ones wait until k have gathered.
WINDOW_DAYS = 14
HALF_PATTERN = re.compile(r"^(\d{4})H([12])$")


class SurveyError(DomainError):
    """A refused operation in surveys, with a message for the person."""


class AlreadyAnswered(SurveyError):
    pass


# --- Scores ------------------------------------------------------------------------------


def points(answer: int) -> float:
    """A 5-point answer on the 100-point scale: 1 → 0, 2 → 25, 3 → 50, 4 → 75, 5 → 100."""
    if not 1 <= answer <= 5:
        raise ValueError(f"a 5-point answer is 1 to 5, not {answer}")
    return (answer - 1) * 25.0


#: The same conversion in SQL, so reports average in the database.
def points_sql(value):
    return (value - 1) * 25.0


def mean_points(distribution: dict[int, int]) -> float | None:
    total = sum(distribution.values())
    if total == 0:
        return None
    return sum(points(value) * count for value, count in distribution.items()) / total


def helpful_share(distribution: dict[int, int]) -> float | None:
    """Percent of respondents answering 4 or 5."""
    total = sum(distribution.values())
    if total == 0:
        return None
    return 100.0 * (distribution.get(4, 0) + distribution.get(5, 0)) / total


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


# --- Templates ---------------------------------------------------------------------------


def current_template(kind: SurveyKind) -> SurveyTemplate:
    """The template in use; the built-in one is created on first use."""
    template = db.session.execute(
        select(SurveyTemplate).where(SurveyTemplate.kind == kind, SurveyTemplate.is_current)
    ).scalar_one_or_none()
    if template is not None:
        return template
    spec = DEFAULT_TEMPLATES[kind]
    template = SurveyTemplate(
        kind=kind, version=1, is_current=True, title=spec["title"], intro=spec["intro"]
    )
    template.questions = [
        Question(
            position=n, text=text, type=qtype, required=required, options=options, metric=metric
        )
        for n, (text, qtype, required, options, metric) in enumerate(spec["questions"], start=1)
    ]
    try:
        with db.session.begin_nested():
            db.session.add(template)
    except IntegrityError:  # created concurrently
        return current_template(kind)
    return template


def has_responses(template: SurveyTemplate) -> bool:
    """Answers use this version, released or still sealed: its questions must stay."""
    return db.session.execute(
        select(
            exists().where(Response.template_id == template.id)
            | exists().where(PendingAnswers.template_id == template.id)
        )
    ).scalar_one()


@dataclass(frozen=True)
class QuestionSpec:
    text: str
    type: QuestionType
    required: bool
    options: list[str]
    metric: Metric | None = None


def save_template(
    kind: SurveyKind, *, title: str, intro: str, questions: list[QuestionSpec], by: User
) -> SurveyTemplate:
    """Save staff's edit. Once responses exist, the edit becomes a new version."""
    template = current_template(kind)
    _check_questions(kind, questions)
    if has_responses(template):
        template.is_current = False
        db.session.flush()
        template = SurveyTemplate(kind=kind, version=template.version + 1, is_current=True)
        db.session.add(template)
    template.title, template.intro = title.strip(), intro.strip()
    template.questions = [
        Question(
            position=n,
            text=q.text.strip(),
            type=q.type,
            required=q.required,
            options=q.options,
            metric=q.metric,
        )
        for n, q in enumerate(questions, start=1)
    ]
    db.session.flush()
    audit.record("survey_template.save", template, by=by, kind=kind.value, version=template.version)
    return template


def _check_questions(kind: SurveyKind, questions: list[QuestionSpec]) -> None:
    if not questions:
        raise SurveyError(_("A survey needs at least one question."))
    for question in questions:
        if (
            question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE)
            and len(question.options) < 2
        ):
            raise SurveyError(
                _("A choice question needs at least two options: %(q)s", q=question.text)
            )
    needed = Metric.OVERALL if kind == SurveyKind.POST_COURSE else Metric.HELPFULNESS
    kpi = [q for q in questions if q.metric == needed]
    if len(kpi) != 1 or kpi[0].type != QuestionType.LIKERT or not kpi[0].required:
        raise SurveyError(
            _(
                "Keep exactly one required 5-point question that the service standard "
                "is measured by."
            )
        )


# --- Invitations -------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class InviteReport:
    invited: int = 0
    reminded: int = 0

    def __str__(self) -> str:
        return f"{self.invited} invited, {self.reminded} reminded"


def attendees(course_id: int) -> list[Enrollment]:
    """Seat holders who came to at least one session (all of them if nobody took attendance)."""
    seat_holders = select(Enrollment).where(
        Enrollment.course_id == course_id, Enrollment.status == EnrollmentStatus.ENROLLED
    )
    attendance_taken = db.session.execute(
        select(
            exists().where(
                Attendance.session_id == CourseSession.id, CourseSession.course_id == course_id
            )
        )
    ).scalar_one()
    if attendance_taken:
        came = exists().where(
            Attendance.enrollment_id == Enrollment.id,
            Attendance.status.in_([AttendanceStatus.PRESENT, AttendanceStatus.LATE]),
        )
        seat_holders = seat_holders.where(came)
    return list(db.session.execute(seat_holders.order_by(Enrollment.id)).scalars())


def invite_post_course(*, now: datetime | None = None, within_days: int = 30) -> InviteReport:
    """Invite every attendee of every course that ended in the last `within_days` days, once;
    remind those who have not answered after 3 and after 7 days."""
    now = now or utcnow()
    report = InviteReport()
    ended = (
        db.session.execute(
            select(Course)
            .where(
                Course.status == CourseStatus.PUBLISHED,
                Course.ends_at <= now,
                Course.ends_at >= now - timedelta(days=within_days),
            )
            .order_by(Course.ends_at)
        )
        .scalars()
        .all()
    )
    for course in ended:
        report.invited += invite_course(course)
    report.reminded = send_reminders(now=now)
    return report


def invite_course(course: Course, *, notify: bool = True) -> int:
    """Invite the course's attendees who have no invitation yet; returns how many."""
    # The template exists before any link to it does: a survey page (a GET, whose
    # transaction is rolled back) never creates it.
    current_template(SurveyKind.POST_COURSE)
    invited = 0
    for enrollment in attendees(course.id):
        invitation = _ensure_invitation(
            SurveyKind.POST_COURSE,
            enrollment.learner_id,
            enrollment_id=enrollment.id,
            course_id=course.id,
        )
        if invitation is not None:
            if notify:
                _queue_invitation(invitation, course_title=course.title)
            invited += 1
    return invited


def _ensure_invitation(kind: SurveyKind, learner_id: int, **where) -> Invitation | None:
    """Insert the invitation unless it exists; returns it only when this call created it."""
    key = ["enrollment_id"] if kind == SurveyKind.POST_COURSE else ["learner_id", "half"]
    inserted = db.session.execute(
        insert_ignoring_conflicts(Invitation.__table__, on=key)
        .values(
            token=new_token(),
            kind=kind,
            learner_id=learner_id,
            sent_at=utcnow(),
            reminders_sent=0,
            **where,
        )
        .returning(Invitation.__table__.c.id)
    ).scalar_one_or_none()
    return db.session.get(Invitation, inserted) if inserted is not None else None


def _queue_invitation(
    invitation: Invitation, *, course_title: str | None, reminder: int = 0
) -> None:
    learner = db.session.get(User, invitation.learner_id)
    context = {
        "url": external_url("surveys.answer", token=invitation.token),
        "reminder": bool(reminder),
    }
    if invitation.kind == SurveyKind.POST_COURSE:
        kind = "survey_post_course"
        subject = _("[Survey] How was %(title)s?", title=course_title)
        context["title"] = course_title
    else:
        kind = "survey_half_yearly"
        subject = _("[Survey] Has the training helped your work? (%(half)s)", half=invitation.half)
        context["half"] = invitation.half
    if reminder:
        subject = _("[Reminder] %(subject)s", subject=subject)
    outbox.queue(
        learner.email,
        subject,
        kind,
        context=context,
        to_name=learner.name,
        dedupe_key=f"survey:invitation:{invitation.id}:{reminder}",
    )


def send_reminders(*, now: datetime | None = None) -> int:
    """Remind unanswered post-course invitations after 3 and after 7 days, once each."""
    now = now or utcnow()
    sent = 0
    for number, days in enumerate(REMINDER_DAYS, start=1):
        due = db.session.execute(
            select(Invitation, Course.title)
            .join(Course, Course.id == Invitation.course_id)
            .where(
                Invitation.kind == SurveyKind.POST_COURSE,
                Invitation.submitted.is_(False),
                Invitation.reminders_sent == number - 1,
                Invitation.sent_at <= now - timedelta(days=days),
            )
        ).all()
        for invitation, title in due:
            claimed = db.session.execute(
                update(Invitation)
                .where(Invitation.id == invitation.id, Invitation.reminders_sent == number - 1)
                .values(reminders_sent=number)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed:
                _queue_invitation(invitation, course_title=title, reminder=number)
                sent += 1
    return sent


def half_bounds(half: str) -> tuple[datetime, datetime]:
    """'2027H1' → the UTC instants where that local half-year starts and ends."""
    match = HALF_PATTERN.match(half)
    if match is None:
        raise SurveyError(_("Give the half-year like 2027H1 or 2027H2."))
    year, part = int(match.group(1)), int(match.group(2))
    start = date(year, 1 if part == 1 else 7, 1)
    end = date(year, 7, 1) if part == 1 else date(year + 1, 1, 1)
    return local_to_utc(datetime.combine(start, time.min)), local_to_utc(
        datetime.combine(end, time.min)
    )


def invite_half_yearly(half: str) -> InviteReport:
    """Invite, once per person and half-year, everyone who completed a course in it."""
    start, end = half_bounds(half)
    learners = (
        db.session.execute(
            select(Enrollment.learner_id)
            .join(Course, Course.id == Enrollment.course_id)
            .where(Enrollment.completed.is_(True), Course.ends_at >= start, Course.ends_at < end)
            .distinct()
        )
        .scalars()
        .all()
    )
    report = InviteReport()
    current_template(SurveyKind.HALF_YEARLY)  # before any link to it (see invite_course)
    for learner_id in sorted(learners):
        invitation = _ensure_invitation(SurveyKind.HALF_YEARLY, learner_id, half=half)
        if invitation is not None:
            _queue_invitation(invitation, course_title=None)
            report.invited += 1
    return report


def invitation_by_token(token: str) -> Invitation | None:
    if not token or len(token) > 64:
        return None
    return db.session.execute(
        select(Invitation).where(Invitation.token == token)
    ).scalar_one_or_none()


def surveys_due(learner: User) -> list[tuple[Invitation, str | None]]:
    rows = db.session.execute(
        select(Invitation, Course.title)
        .outerjoin(Course, Course.id == Invitation.course_id)
        .where(Invitation.learner_id == learner.id, Invitation.submitted.is_(False))
        .order_by(Invitation.sent_at.desc())
    ).all()
    return [(invitation, title) for invitation, title in rows]


# --- Answering ---------------------------------------------------------------------------

AnswerValue = int | list[int] | str | None


def check_answers(template: SurveyTemplate, answers: dict[int, AnswerValue]) -> dict[int, str]:
    """Errors by question id: a required answer missing, a value out of range."""
    errors = {}
    for question in template.questions:
        value = answers.get(question.id)
        empty = value is None or value == "" or value == []
        if empty:
            if question.required:
                errors[question.id] = _("Please answer this question.")
            continue
        if question.type == QuestionType.LIKERT and not (
            isinstance(value, int) and 1 <= value <= 5
        ):
            errors[question.id] = _("Choose a value from 1 to 5.")
        elif question.type == QuestionType.SINGLE and not (
            isinstance(value, int) and 1 <= value <= len(question.options)
        ):
            errors[question.id] = _("Choose one of the options.")
        elif question.type == QuestionType.MULTIPLE and not (
            isinstance(value, list) and all(1 <= v <= len(question.options) for v in value)
        ):
            errors[question.id] = _("Choose among the options.")
        elif question.type == QuestionType.TEXT and (
            not isinstance(value, str) or len(value) > MAX_TEXT_LENGTH
        ):
            errors[question.id] = _("Please keep the text under 4,000 characters.")
    return errors


def template_for(invitation: Invitation) -> SurveyTemplate:
    return current_template(invitation.kind)


def submit(
    invitation: Invitation, answers: dict[int, AnswerValue], *, now: datetime | None = None
) -> None:
    """Take a submission: mark the link used, seal the answers into the pending box, open
    the certificate's survey gate, and release the answers' group if this made it due.

    The only writes that name the person are the used mark and the gate, neither with a
    day; the sealed answers carry their group and nothing else (see surveys/models.py).
    """
    now = now or utcnow()
    template = template_for(invitation)
    if check_answers(template, answers):
        raise SurveyError(_("Please correct the answers marked below."))
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.submitted.is_(False))
        .values(submitted=True)
    ).rowcount
    if not claimed:
        raise AlreadyAnswered(_("This survey has already been answered. Thank you!"))
    scope = Scope.of(invitation)
    _lock(scope)
    closed = _window_closed(scope, now)
    db.session.add(
        PendingAnswers(
            kind=scope.kind,
            course_id=scope.course_id,
            half=scope.half,
            template_id=template.id,
            after_close=closed,
            sealed=seal(
                {"a": list(_answer_entries(template, answers))},
                size=padded_size(template),
                group=scope.seal_group(template.id),
            ),
        )
    )
    db.session.flush()
    if invitation.enrollment_id is not None:
        attendance.record_survey_submitted(invitation.enrollment_id)
    _release_due_in(scope, closed=closed)


def _answer_entries(template: SurveyTemplate, answers: dict[int, AnswerValue]):
    """[question, choice, value, text] per answer; a multiple choice has one per choice."""
    for question in template.questions:
        value = answers.get(question.id)
        if value is None or value == "" or value == []:
            continue
        if question.type == QuestionType.MULTIPLE:
            for choice in sorted(set(value)):
                yield [question.id, choice, choice, None]
        elif question.type == QuestionType.TEXT:
            yield [question.id, 0, None, value.strip()]
        else:
            yield [question.id, 0, value, None]


# --- Release -----------------------------------------------------------------------------

#: Shuffles every batch: the operating system's randomness, nothing a reader could replay.
_shuffler = secrets.SystemRandom()


@dataclass(frozen=True)
class Scope:
    """What a report groups answers by: a post-course survey of one course, or a half-yearly
    round. A release group is a scope and a template version."""

    kind: SurveyKind
    course_id: int | None
    half: str | None

    @classmethod
    def of(cls, invitation: Invitation) -> Scope:
        return cls(SurveyKind(invitation.kind), invitation.course_id, invitation.half)

    def where(self, model):
        """The scope as a WHERE clause on Invitation, PendingAnswers or Response."""
        return (
            (model.kind == self.kind)
            & (
                model.course_id.is_(None)
                if self.course_id is None
                else model.course_id == self.course_id
            )
            & (model.half.is_(None) if self.half is None else model.half == self.half)
        )

    @property
    def name(self) -> str:
        return f"{self.kind.value}|{self.course_id or ''}|{self.half or ''}"

    def seal_group(self, template_id: int) -> bytes:
        """Authenticated with every sealed row: a row moved to another group does not open."""
        return f"{self.name}|{template_id}".encode()

    @property
    def lock_key(self) -> int:
        digest = hashlib.sha256(f"coursedesk:survey-scope:{self.name}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    @property
    def sort_key(self) -> tuple:
        return (self.kind.value, self.course_id or 0, self.half or "")


def release_batch() -> int:
    """k: the fewest answers a release publishes together (until a survey window closes)."""
    return max(1, int(current_app.config["SURVEY_RELEASE_BATCH"]))


def _lock(scope: Scope) -> None:
    """Serialise submissions and releases of one scope until the transaction ends, so that a
    release sees every submission of its scope whole (answers and used mark) or not at all.
    SQLite has one writer at a time already; PostgreSQL takes an advisory lock."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": scope.lock_key})


def window_closes(scope: Scope) -> datetime | None:
    """When the scope's survey window closes: WINDOW_DAYS after its last invitation."""
    last_sent = db.session.execute(
        select(func.max(Invitation.sent_at)).where(scope.where(Invitation))
    ).scalar_one()
    return None if last_sent is None else last_sent + timedelta(days=WINDOW_DAYS)


def _window_closed(scope: Scope, now: datetime) -> bool:
    closes = window_closes(scope)
    return closes is None or now >= closes


def release_due(now: datetime | None = None) -> int:
    """Release every group of sealed answers that is due: k or more waiting, or its survey
    window closed. Returns how many responses reached the reports. Idempotent; cron runs
    it with the survey commands."""
    now = now or utcnow()
    scopes = [
        Scope(SurveyKind(kind), course_id, half)
        for kind, course_id, half in db.session.execute(
            select(PendingAnswers.kind, PendingAnswers.course_id, PendingAnswers.half).distinct()
        ).all()
    ]
    released = 0
    for scope in sorted(scopes, key=lambda scope: scope.sort_key):  # one lock order
        _lock(scope)
        released += _release_due_in(scope, closed=_window_closed(scope, now))
    return released


def _release_due_in(scope: Scope, *, closed: bool) -> int:
    """Release the scope's groups that are due; `closed`: its survey window has closed."""
    k = release_batch()
    groups = db.session.execute(
        select(
            PendingAnswers.template_id,
            func.count(),
            func.count(case((PendingAnswers.after_close.is_(False), 1))),
        )
        .where(scope.where(PendingAnswers))
        .group_by(PendingAnswers.template_id)
        .order_by(PendingAnswers.template_id)
    ).all()
    released = 0
    for template_id, waiting, on_time in groups:
        # Past the window, the answers given in it go out even below k; answers given
        # later wait for k of their kind rather than being released alone.
        if waiting >= k or (closed and on_time):
            released += _release(scope, template_id, k=k, below_k_allowed=closed and on_time > 0)
    return released


def _release(scope: Scope, template_id: int, *, k: int, below_k_allowed: bool) -> int:
    """Open one group, shuffle it and write it to the report tables, in this transaction:
    every response, the emptied box and the release day of everyone in the batch."""
    group = scope.seal_group(template_id)
    sealed_rows = db.session.execute(
        select(PendingAnswers.id, PendingAnswers.sealed).where(
            scope.where(PendingAnswers), PendingAnswers.template_id == template_id
        )
    ).all()
    opened, opened_ids = [], []
    for row_id, sealed in sealed_rows:
        try:
            opened.append(open_sealed(sealed, group=group))
        except SealBroken:
            # Kept in the box (a key may come back as a fallback); never guessed at.
            log.error("sealed survey answers %s do not open with the server's keys", row_id)
            continue
        opened_ids.append(row_id)
    if not opened or (len(opened) < k and not below_k_allowed):
        return 0
    _shuffler.shuffle(opened)
    small_batch = len(opened) < k
    responses, answers = [], []
    for payload in opened:  # in the shuffled order, which is the order rows are stored in
        response_id = new_response_id()
        responses.append(
            {
                "id": response_id,
                "template_id": template_id,
                "kind": scope.kind,
                "course_id": scope.course_id,
                "half": scope.half,
                "small_batch": small_batch,
            }
        )
        answers.extend(
            {
                "response_id": response_id,
                "question_id": question_id,
                "choice": choice,
                "value": value,
                "text": answer_text,
            }
            for question_id, choice, value, answer_text in payload["a"]
        )
    db.session.execute(insert(Response), responses)
    if answers:
        db.session.execute(insert(Answer), answers)
    _add_to_tallies(scope, template_id, answers, responses=len(opened), small_batch=small_batch)
    db.session.execute(delete(PendingAnswers).where(PendingAnswers.id.in_(opened_ids)))
    db.session.execute(
        update(Invitation)
        .where(
            scope.where(Invitation),
            Invitation.submitted.is_(True),
            Invitation.answered_on.is_(None),
        )
        .values(answered_on=local_today())
    )
    return len(opened)


def _add_to_tallies(
    scope: Scope, template_id: int, answers: list[dict], *, responses: int, small_batch: bool
) -> None:
    """Count a released batch into its scope's tallies, which the reports read. The
    database adds to existing counters (ON CONFLICT ... DO UPDATE), so two releases racing
    on an engine without the scope lock still sum."""
    columns = {
        "scope": scope.name,
        "kind": scope.kind,
        "course_id": scope.course_id,
        "half": scope.half,
    }
    db.session.execute(
        insert_adding_on_conflict(
            ReleasedCount.__table__,
            [
                {
                    **columns,
                    "template_id": template_id,
                    "responses": responses,
                    "small_batch": responses if small_batch else 0,
                }
            ],
            on=["scope", "template_id"],
            add=["responses", "small_batch"],
        )
    )
    counts = Counter(
        (answer["question_id"], answer["value"])
        for answer in answers
        if answer["value"] is not None
    )
    if counts:
        db.session.execute(
            insert_adding_on_conflict(
                Tally.__table__,
                [
                    {**columns, "question_id": question_id, "value": value, "count": count}
                    for (question_id, value), count in sorted(counts.items())
                ],
                on=["scope", "question_id", "value"],
                add=["count"],
            )
        )


# --- Reports -----------------------------------------------------------------------------

#: Which report scopes a report covers, as a WHERE clause on any model with the scope's
#: columns (kind, course_id, half): Tally, ReleasedCount, Invitation, Response.
ScopeFilter = Callable[[type], object]


@dataclass
class QuestionResult:
    question: Question
    distribution: dict[int, int] = field(default_factory=dict)  # value → count
    comments: list[str] = field(default_factory=list)  # the longest first, maybe capped
    comment_count: int = 0  # all comments, shown or not

    @property
    def count(self) -> int:
        return sum(self.distribution.values())

    @property
    def score(self) -> float | None:
        return mean_points(self.distribution) if self.question.type == QuestionType.LIKERT else None

    @property
    def helpful(self) -> float | None:
        return (
            helpful_share(self.distribution) if self.question.type == QuestionType.LIKERT else None
        )


@dataclass
class SurveyResult:
    """Results of a set of responses: per question, with the KPI and the response rate."""

    responses: int
    invitations: int
    questions: list[QuestionResult]
    comments_hidden: bool
    #: Responses released in a batch smaller than k, at a survey window's close.
    small_batch: int = 0

    @property
    def response_rate(self) -> float | None:
        return rate(self.responses, self.invitations)

    def metric(self, metric: Metric) -> QuestionResult | None:
        return next((q for q in self.questions if q.question.metric == metric), None)

    @property
    def satisfaction(self) -> float | None:
        result = self.metric(Metric.OVERALL)
        return result.score if result else None

    @property
    def helpfulness(self) -> float | None:
        result = self.metric(Metric.HELPFULNESS)
        return result.helpful if result else None


def survey_result(
    kind: SurveyKind, where: ScopeFilter, *, max_comments: int | None = None
) -> SurveyResult:
    """The results of the released answers in the scopes `where` selects, from the tallies
    kept at each release: a fixed number of statements, each reading counters rather than
    answers. Only the comments come from the answers, at most `max_comments` per question
    (the longest)."""
    responses, small_batch = db.session.execute(
        select(
            func.coalesce(func.sum(ReleasedCount.responses), 0),
            func.coalesce(func.sum(ReleasedCount.small_batch), 0),
        ).where(ReleasedCount.kind == kind, where(ReleasedCount))
    ).one()
    invitations = db.session.execute(
        select(func.count(Invitation.id)).where(Invitation.kind == kind, where(Invitation))
    ).scalar_one()
    grouped = db.session.execute(
        select(Question, Tally.value, func.sum(Tally.count))
        .join(Tally, Tally.question_id == Question.id)
        .where(Tally.kind == kind, where(Tally))
        .group_by(Question.id, Tally.value)
        .order_by(Question.template_id, Question.position)
    ).all()
    by_question: dict[int, QuestionResult] = {}
    for question, value, count in grouped:
        by_question.setdefault(question.id, QuestionResult(question)).distribution[value] = int(
            count
        )
    hide = responses < MIN_RESPONSES_FOR_COMMENTS
    for template_questions in _questions_of(kind, where):
        by_question.setdefault(template_questions.id, QuestionResult(template_questions))
    if not hide:
        for question_id, text, total in _comments(kind, where, max_comments):
            if question_id in by_question:
                by_question[question_id].comments.append(text)
                by_question[question_id].comment_count = total
    ordered = sorted(
        by_question.values(), key=lambda r: (-r.question.template_id, r.question.position)
    )
    return SurveyResult(int(responses), invitations, ordered, hide, int(small_batch))


def _comments(kind: SurveyKind, where: ScopeFilter, limit: int | None):
    """(question, text, comments of that question) rows, longest first, `limit` per question,
    ranked in SQL with a window function."""
    ranked = (
        select(
            Answer.question_id,
            Answer.text,
            func.row_number()
            .over(
                partition_by=Answer.question_id,
                order_by=(func.length(Answer.text).desc(), Answer.text),
            )
            .label("rank"),
            func.count().over(partition_by=Answer.question_id).label("total"),
        )
        .join(Response, Response.id == Answer.response_id)
        .where(Response.kind == kind, where(Response), Answer.text.is_not(None))
        .subquery()
    )
    query = select(ranked.c.question_id, ranked.c.text, ranked.c.total).order_by(
        ranked.c.question_id, ranked.c.rank
    )
    if limit is not None:
        query = query.where(ranked.c.rank <= limit)
    return db.session.execute(query).all()


def _questions_of(kind: SurveyKind, where: ScopeFilter) -> list[Question]:
    """Questions of every template version the responses used (free-text ones included)."""
    used = (
        select(ReleasedCount.template_id)
        .where(ReleasedCount.kind == kind, where(ReleasedCount))
        .distinct()
    )
    return list(
        db.session.execute(
            select(Question).where(Question.template_id.in_(used)).order_by(Question.position)
        ).scalars()
    )


def course_result(course_id: int) -> SurveyResult:
    return survey_result(SurveyKind.POST_COURSE, lambda model: model.course_id == course_id)


def _courses_in(start: datetime, end: datetime):
    return select(Course.id).where(Course.ends_at >= start, Course.ends_at < end)


def period_result(
    start: datetime, end: datetime, *, max_comments: int | None = None
) -> SurveyResult:
    """Post-course results of every course that ended in the period."""
    courses = _courses_in(start, end)
    return survey_result(
        SurveyKind.POST_COURSE,
        lambda model: model.course_id.in_(courses),
        max_comments=max_comments,
    )


def half_yearly_result(half: str, *, max_comments: int | None = None) -> SurveyResult:
    return survey_result(
        SurveyKind.HALF_YEARLY, lambda model: model.half == half, max_comments=max_comments
    )


def instructor_result(
    instructor_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    max_comments: int | None = None,
) -> SurveyResult:
    """Post-course results of the instructor's courses (those that ended in [since, until))."""
    taught = select(course_instructors.c.course_id).where(
        course_instructors.c.user_id == instructor_id
    )
    if since is not None or until is not None:
        ended = select(Course.id)
        if since is not None:
            ended = ended.where(Course.ends_at >= since)
        if until is not None:
            ended = ended.where(Course.ends_at < until)
        taught = taught.where(course_instructors.c.course_id.in_(ended))
    return survey_result(
        SurveyKind.POST_COURSE,
        lambda model: model.course_id.in_(taught),
        max_comments=max_comments,
    )


@dataclass(frozen=True)
class CourseScore:
    course: Course
    responses: int
    invitations: int
    satisfaction: float | None

    @property
    def response_rate(self) -> float | None:
        return rate(self.responses, self.invitations)

    @property
    def meets_target(self) -> bool | None:
        return None if self.satisfaction is None else self.satisfaction >= SATISFACTION_TARGET


def course_scores(
    start: datetime, end: datetime, *, instructor_id: int | None = None
) -> list[CourseScore]:
    """One row per course that ended in the period: satisfaction and response rate, from two
    grouped statements (no statement per course)."""
    courses_query = select(Course).where(Course.ends_at >= start, Course.ends_at < end)
    if instructor_id is not None:
        courses_query = courses_query.where(
            Course.id.in_(
                select(course_instructors.c.course_id).where(
                    course_instructors.c.user_id == instructor_id
                )
            )
        )
    courses = db.session.execute(courses_query.order_by(Course.starts_at)).scalars().all()
    ids = [course.id for course in courses]
    responses = dict(
        db.session.execute(
            select(ReleasedCount.course_id, func.sum(ReleasedCount.responses))
            .where(ReleasedCount.kind == SurveyKind.POST_COURSE, ReleasedCount.course_id.in_(ids))
            .group_by(ReleasedCount.course_id)
        ).all()
    )
    overall = dict(
        db.session.execute(
            select(Tally.course_id, _mean_points_of_tallies())
            .join(Question, Question.id == Tally.question_id)
            .where(
                Tally.kind == SurveyKind.POST_COURSE,
                Tally.course_id.in_(ids),
                Question.metric == Metric.OVERALL,
            )
            .group_by(Tally.course_id)
        ).all()
    )
    invited = dict(
        db.session.execute(
            select(Invitation.course_id, func.count())
            .where(Invitation.kind == SurveyKind.POST_COURSE, Invitation.course_id.in_(ids))
            .group_by(Invitation.course_id)
        ).all()
    )
    return [
        CourseScore(
            course,
            responses=int(responses.get(course.id, 0)),
            invitations=invited.get(course.id, 0),
            satisfaction=None if overall.get(course.id) is None else float(overall[course.id]),
        )
        for course in courses
    ]


@dataclass(frozen=True)
class PeriodScore:
    responses: int
    invitations: int
    satisfaction: float | None

    @property
    def response_rate(self) -> float | None:
        return rate(self.responses, self.invitations)


def satisfaction_by_half(year: int) -> dict[str, PeriodScore]:
    """The year's overall satisfaction per half-year, from three grouped statements over
    the tallies (rather than a full report per half)."""
    start, end = year_bounds(year)
    middle = half_bounds(f"{year}H2")[0]
    half = case((Course.ends_at < middle, "H1"), else_="H2")
    in_year = (Course.ends_at >= start) & (Course.ends_at < end)
    responses = dict(
        db.session.execute(
            select(half, func.sum(ReleasedCount.responses))
            .select_from(ReleasedCount)
            .join(Course, Course.id == ReleasedCount.course_id)
            .where(ReleasedCount.kind == SurveyKind.POST_COURSE, in_year)
            .group_by(half)
        ).all()
    )
    overall = dict(
        db.session.execute(
            select(half, _mean_points_of_tallies())
            .select_from(Tally)
            .join(Course, Course.id == Tally.course_id)
            .join(Question, Question.id == Tally.question_id)
            .where(Tally.kind == SurveyKind.POST_COURSE, in_year, Question.metric == Metric.OVERALL)
            .group_by(half)
        ).all()
    )
    invited = dict(
        db.session.execute(
            select(half, func.count())
            .select_from(Invitation)
            .join(Course, Course.id == Invitation.course_id)
            .where(Invitation.kind == SurveyKind.POST_COURSE, in_year)
            .group_by(half)
        ).all()
    )
    return {
        part: PeriodScore(
            int(responses.get(part) or 0),
            invited.get(part, 0),
            None if overall.get(part) is None else float(overall[part]),
        )
        for part in ("H1", "H2")
    }


def _mean_points_of_tallies():
    """The mean on the 100-point scale of the tallied 5-point answers in each group."""
    return func.sum(points_sql(Tally.value) * Tally.count) / func.nullif(func.sum(Tally.count), 0)


year_bounds = local_year_bounds


def non_respondents(course_id: int) -> list[str]:
    """Names of those who have not answered yet, for reminding; never linked to answers."""
    return list(
        db.session.execute(
            select(User.name)
            .join(Invitation, Invitation.learner_id == User.id)
            .where(Invitation.course_id == course_id, Invitation.answered_on.is_(None))
            .order_by(User.name)
        ).scalars()
    )


def raw_answers(year: int):
    """Anonymous answers of the year's post-course and half-yearly responses, for export, in
    the order of their random response ids (which follows nothing about the people).

    A post-course response names its course run by id, title and start (UTC), since runs
    of one course share their title; a half-yearly one has none of the three."""
    courses = _courses_in(*year_bounds(year))
    halves = [f"{year}H1", f"{year}H2"]
    return db.session.execute(
        select(
            Response.id,
            Response.kind,
            Course.id,
            Course.title,
            Course.starts_at,
            Response.half,
            Question.position,
            Question.text,
            Answer.value,
            Answer.text,
            Response.small_batch,
        )
        .join(Answer, Answer.response_id == Response.id)
        .join(Question, Question.id == Answer.question_id)
        .outerjoin(Course, Course.id == Response.course_id)
        .where(Response.course_id.in_(courses) | Response.half.in_(halves))
        .order_by(
            Response.kind,
            Course.title,
            Course.starts_at,
            Course.id,
            Response.id,
            Question.position,
            Answer.choice,
        )
    ).all()


@dataclass(frozen=True)
class SurveyCoverage:
    """"A survey after every course": of the year's courses that ended with seat holders,
    how many had their post-course survey sent."""

    ended: int
    surveyed: int


def survey_coverage(year: int, *, now: datetime | None = None) -> SurveyCoverage:
    start, end = year_bounds(year)
    now = now or utcnow()
    seated = exists().where(
        Enrollment.course_id == Course.id, Enrollment.status == EnrollmentStatus.ENROLLED
    )
    surveyed = exists().where(
        Invitation.course_id == Course.id, Invitation.kind == SurveyKind.POST_COURSE
    )
    ended, with_survey = db.session.execute(
        select(func.count(), func.count().filter(surveyed)).where(
            Course.status == CourseStatus.PUBLISHED,
            Course.ends_at >= start,
            Course.ends_at < min(end, now),
            seated,
        )
    ).one()
    return SurveyCoverage(ended, with_survey)


def kpis(year: int) -> dict[str, SurveyResult]:
    """Standard 8 for the staff dashboard: the year's satisfaction and each half's helpfulness."""
    start, end = year_bounds(year)
    return {
        "year": period_result(start, end),
        "H1": half_yearly_result(f"{year}H1"),
        "H2": half_yearly_result(f"{year}H2"),
    }
