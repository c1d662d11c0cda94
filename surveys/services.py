"""Surveys: invitations, anonymous submission, and the satisfaction KPIs of standard 8.

Every report aggregates in SQL (GROUP BY over answers), so its cost does not grow with a
loop over responses and the number of statements a report page issues stays the same
whatever the number of courses.
"""

from __future__ import annotations

import re
import secrets
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from app.core import audit, outbox
from app.core.accounts.models import User
from app.core.errors import DomainError
from app.core.extensions import db, insert_ignoring_conflicts
from app.core.links import external_url
from app.core.timeutil import local_to_utc, local_today, utcnow
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
    Answer,
    Invitation,
    Metric,
    Question,
    QuestionType,
    Response,
    SurveyKind,
    SurveyTemplate,
)

#: The charter's targets (standard 8).
SATISFACTION_TARGET = 80.0  # points of 100
HELPFULNESS_TARGET = 80.0  # percent answering 4 or 5
#: Below this many responses a report hides free-text comments (they could identify someone).
MIN_RESPONSES_FOR_COMMENTS = 3
REMINDER_DAYS = (3, 7)
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
    db.session.commit()
    return template


def has_responses(template: SurveyTemplate) -> bool:
    return db.session.execute(
        select(exists().where(Response.template_id == template.id))
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
    db.session.commit()
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
    db.session.commit()
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
    url = external_url("surveys.answer", token=invitation.token)
    if invitation.kind == SurveyKind.POST_COURSE:
        subject = _("[Survey] How was %(title)s?", title=course_title)
        body = _(
            "Dear %(name)s,\n\nThank you for taking part in %(title)s. Please tell us how it "
            "was; it takes about three minutes and your answers are anonymous:\n%(url)s\n\n"
            "Your certificate is issued as soon as you have answered.",
            name=learner.name,
            title=course_title,
            url=url,
        )
    else:
        subject = _("[Survey] Has the training helped your work? (%(half)s)", half=invitation.half)
        body = _(
            "Dear %(name)s,\n\nYou completed training with us in %(half)s. Has it helped you in "
            "your work? Two short questions, answered anonymously:\n%(url)s",
            name=learner.name,
            half=invitation.half,
            url=url,
        )
    if reminder:
        subject = _("[Reminder] %(subject)s", subject=subject)
    outbox.queue(
        learner.email,
        subject,
        body,
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
                Invitation.answered_on.is_(None),
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
        db.session.commit()
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
    for learner_id in sorted(learners):
        invitation = _ensure_invitation(SurveyKind.HALF_YEARLY, learner_id, half=half)
        if invitation is not None:
            _queue_invitation(invitation, course_title=None)
            report.invited += 1
    db.session.commit()
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
        .where(Invitation.learner_id == learner.id, Invitation.answered_on.is_(None))
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
            not isinstance(value, str) or len(value) > 4000
        ):
            errors[question.id] = _("Please keep the text under 4,000 characters.")
    return errors


def template_for(invitation: Invitation) -> SurveyTemplate:
    return current_template(invitation.kind)


def submit(invitation: Invitation, answers: dict[int, AnswerValue]) -> Response:
    """Store the answers anonymously and mark the invitation answered, in one transaction."""
    template = template_for(invitation)
    errors = check_answers(template, answers)
    if errors:
        raise SurveyError(_("Please correct the answers marked below."))
    today = local_today()
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.answered_on.is_(None))
        .values(answered_on=today)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise AlreadyAnswered(_("This survey has already been answered. Thank you!"))
    response = Response(
        template_id=template.id,
        kind=invitation.kind,
        course_id=invitation.course_id,
        half=invitation.half,
    )
    db.session.add(response)
    db.session.flush()
    db.session.add_all(_answer_rows(response.id, template, answers))
    if invitation.enrollment_id is not None:
        db.session.execute(
            update(Enrollment)
            .where(Enrollment.id == invitation.enrollment_id)
            .values(survey_submitted=True, updated_at=Enrollment.updated_at)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    _issue_certificate_if_ready(invitation.enrollment_id)
    return response


def _answer_rows(response_id: str, template: SurveyTemplate, answers: dict[int, AnswerValue]):
    for question in template.questions:
        value = answers.get(question.id)
        if value is None or value == "" or value == []:
            continue
        if question.type == QuestionType.MULTIPLE:
            for choice in sorted(set(value)):
                yield Answer(
                    response_id=response_id, question_id=question.id, choice=choice, value=choice
                )
        elif question.type == QuestionType.TEXT:
            yield Answer(
                response_id=response_id, question_id=question.id, choice=0, text=value.strip()
            )
        else:
            yield Answer(response_id=response_id, question_id=question.id, choice=0, value=value)


def _issue_certificate_if_ready(enrollment_id: int | None) -> None:
    """The survey was the certificate's last gate (see certificates.services.refusal)."""
    from certificates import services as certificates

    if enrollment_id is None:
        return
    enrollment = db.session.get(Enrollment, enrollment_id)
    db.session.refresh(enrollment)
    if enrollment.completed:
        # Not ready for another reason: the learner's page says why.
        with suppress(certificates.CertificateError):
            certificates.issue(enrollment)


# --- Reports -----------------------------------------------------------------------------


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
    kind: SurveyKind, response_filter, invitation_filter, *, max_comments: int | None = None
) -> SurveyResult:
    """Aggregate the responses matching `response_filter` (a WHERE on Response) in a fixed
    number of statements, whatever their number; at most `max_comments` comments per
    question are fetched (the longest)."""
    responses = db.session.execute(
        select(func.count(Response.id)).where(Response.kind == kind, response_filter)
    ).scalar_one()
    invitations = db.session.execute(
        select(func.count(Invitation.id)).where(Invitation.kind == kind, invitation_filter)
    ).scalar_one()
    grouped = db.session.execute(
        select(Question, Answer.value, func.count())
        .join(Answer, Answer.question_id == Question.id)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.kind == kind, response_filter, Answer.value.is_not(None))
        .group_by(Question.id, Answer.value)
        .order_by(Question.template_id, Question.position)
    ).all()
    by_question: dict[int, QuestionResult] = {}
    for question, value, count in grouped:
        by_question.setdefault(question.id, QuestionResult(question)).distribution[value] = count
    hide = responses < MIN_RESPONSES_FOR_COMMENTS
    for template_questions in _questions_of(kind, response_filter):
        by_question.setdefault(template_questions.id, QuestionResult(template_questions))
    if not hide:
        for question_id, text, total in _comments(kind, response_filter, max_comments):
            if question_id in by_question:
                by_question[question_id].comments.append(text)
                by_question[question_id].comment_count = total
    ordered = sorted(
        by_question.values(), key=lambda r: (-r.question.template_id, r.question.position)
    )
    return SurveyResult(responses, invitations, ordered, hide)


def _comments(kind: SurveyKind, response_filter, limit: int | None):
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
        .where(Response.kind == kind, response_filter, Answer.text.is_not(None))
        .subquery()
    )
    query = select(ranked.c.question_id, ranked.c.text, ranked.c.total).order_by(
        ranked.c.question_id, ranked.c.rank
    )
    if limit is not None:
        query = query.where(ranked.c.rank <= limit)
    return db.session.execute(query).all()


def _questions_of(kind: SurveyKind, response_filter) -> list[Question]:
    """Questions of every template version the responses used (free-text ones included)."""
    used = select(Response.template_id).where(Response.kind == kind, response_filter).distinct()
    return list(
        db.session.execute(
            select(Question).where(Question.template_id.in_(used)).order_by(Question.position)
        ).scalars()
    )


def course_result(course_id: int) -> SurveyResult:
    return survey_result(
        SurveyKind.POST_COURSE, Response.course_id == course_id, Invitation.course_id == course_id
    )


def _courses_in(start: datetime, end: datetime):
    return select(Course.id).where(Course.ends_at >= start, Course.ends_at < end)


def period_result(
    start: datetime, end: datetime, *, max_comments: int | None = None
) -> SurveyResult:
    """Post-course results of every course that ended in the period."""
    courses = _courses_in(start, end)
    return survey_result(
        SurveyKind.POST_COURSE,
        Response.course_id.in_(courses),
        Invitation.course_id.in_(courses),
        max_comments=max_comments,
    )


def half_yearly_result(half: str, *, max_comments: int | None = None) -> SurveyResult:
    return survey_result(
        SurveyKind.HALF_YEARLY,
        Response.half == half,
        Invitation.half == half,
        max_comments=max_comments,
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
        Response.course_id.in_(taught),
        Invitation.course_id.in_(taught),
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
    post_course = (Response.kind == SurveyKind.POST_COURSE) & Response.course_id.in_(ids)
    responses = dict(
        db.session.execute(
            select(Response.course_id, func.count()).where(post_course).group_by(Response.course_id)
        ).all()
    )
    # Only the overall question's answers are joined: no DISTINCT over every answer row.
    overall = dict(
        db.session.execute(
            select(Response.course_id, func.avg(points_sql(Answer.value)))
            .join(Answer, Answer.response_id == Response.id)
            .join(Question, Question.id == Answer.question_id)
            .where(post_course, Question.metric == Metric.OVERALL)
            .group_by(Response.course_id)
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
            responses=responses.get(course.id, 0),
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
    """The year's overall satisfaction per half-year, from three grouped statements (rather
    than a full report per half)."""
    start, end = year_bounds(year)
    middle = half_bounds(f"{year}H2")[0]
    half = case((Course.ends_at < middle, "H1"), else_="H2")
    in_year = (Course.ends_at >= start) & (Course.ends_at < end)
    responses = dict(
        db.session.execute(
            select(half, func.count())
            .select_from(Response)
            .join(Course, Course.id == Response.course_id)
            .where(Response.kind == SurveyKind.POST_COURSE, in_year)
            .group_by(half)
        ).all()
    )
    overall = dict(
        db.session.execute(
            select(half, func.avg(points_sql(Answer.value)))
            .select_from(Answer)
            .join(Response, Response.id == Answer.response_id)
            .join(Course, Course.id == Response.course_id)
            .join(Question, Question.id == Answer.question_id)
            .where(
                Response.kind == SurveyKind.POST_COURSE, in_year, Question.metric == Metric.OVERALL
            )
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
            responses.get(part, 0),
            invited.get(part, 0),
            None if overall.get(part) is None else float(overall[part]),
        )
        for part in ("H1", "H2")
    }


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return (
        local_to_utc(datetime.combine(date(year, 1, 1), time.min)),
        local_to_utc(datetime.combine(date(year + 1, 1, 1), time.min)),
    )


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
    """Anonymous answers of the year's post-course and half-yearly responses, for export."""
    courses = _courses_in(*year_bounds(year))
    halves = [f"{year}H1", f"{year}H2"]
    return db.session.execute(
        select(
            Response.id,
            Response.kind,
            Course.title,
            Response.half,
            Question.position,
            Question.text,
            Answer.value,
            Answer.text,
        )
        .join(Answer, Answer.response_id == Response.id)
        .join(Question, Question.id == Answer.question_id)
        .outerjoin(Course, Course.id == Response.course_id)
        .where(Response.course_id.in_(courses) | Response.half.in_(halves))
        .order_by(Response.kind, Course.title, Response.id, Question.position, Answer.choice)
    ).all()


def kpis(year: int) -> dict[str, SurveyResult]:
    """Standard 8 for the staff dashboard: the year's satisfaction and each half's helpfulness."""
    start, end = year_bounds(year)
    return {
        "year": period_result(start, end),
        "H1": half_yearly_result(f"{year}H1"),
        "H2": half_yearly_result(f"{year}H2"),
    }
