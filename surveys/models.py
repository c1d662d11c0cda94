"""Survey templates, invitations, sealed pending answers and anonymous responses.

Anonymity, against a staff member who can read every page and export and run SQL on every
table, system columns included (PostgreSQL's `xmin`/`ctid`, SQLite's `rowid`), but does
not hold the server's `SECRET_KEY`: no answer can be tied to a person better than 1 in k,
k being the release batch (`SURVEY_RELEASE_BATCH`, 5 by default). How:

- Submitting writes, person-linked, only the fact: `Invitation.submitted` (no day) and the
  certificate's survey gate on the enrolment (the courses feature's, also without a day).
  The answers go into the pending box (`PendingAnswers`) sealed with a key derived from
  `SECRET_KEY` and padded to one length per survey version, beside their release group
  (kind, course or half-year, template) and nothing else: no person, time or number.
- A release opens a whole group once k answers are waiting in it (or when its survey
  window closes, then flagged `small_batch`), shuffles them with the system's randomness
  and writes them, in that shuffled order, to the report tables in one transaction that
  also empties the group and stamps `Invitation.answered_on` on everyone in the batch.
  So the rows' system columns, storage order and random ids tell only the batch.
- A response holds no user, enrolment, invitation, token or time, and its answers are
  keyed by its random id alone. A post-course response carries its course, which is what
  course and instructor reports need.

Every report, export, count and the "not answered yet" list reads released data and
`answered_on` only, so none of them changes between releases.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.accounts.models import User
from app.core.extensions import db, enum_type
from app.core.timeutil import UTCDateTime, utcnow


class SurveyKind(enum.StrEnum):
    POST_COURSE = "post_course"
    HALF_YEARLY = "half_yearly"

    @property
    def label(self) -> str:
        return str(SURVEY_KIND_LABELS[self])


SURVEY_KIND_LABELS = {
    SurveyKind.POST_COURSE: _l("Post-course survey"),
    SurveyKind.HALF_YEARLY: _l("Half-yearly on-the-job survey"),
}


#: The longest free-text answer, in characters: the form and the service refuse more, and
#: the sealed pending answers are padded for it (surveys/sealing.py).
MAX_TEXT_LENGTH = 4000


class QuestionType(enum.StrEnum):
    LIKERT = "likert"
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"

    @property
    def label(self) -> str:
        return str(QUESTION_TYPE_LABELS[self])


QUESTION_TYPE_LABELS = {
    QuestionType.LIKERT: _l("5-point scale"),
    QuestionType.SINGLE: _l("Single choice"),
    QuestionType.MULTIPLE: _l("Multiple choice"),
    QuestionType.TEXT: _l("Free text"),
}


class Metric(enum.StrEnum):
    """The question a service-standard KPI is computed from."""

    OVERALL = "overall"  # post-course: overall satisfaction, in points
    HELPFULNESS = "helpfulness"  # half-yearly: share answering 4 or 5


class SurveyTemplate(db.Model):
    __tablename__ = "survey_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SurveyKind] = mapped_column(enum_type(SurveyKind))
    #: Editing a template that has responses creates the next version; responses keep theirs.
    version: Mapped[int] = mapped_column(default=1)
    is_current: Mapped[bool] = mapped_column(default=True)
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    questions: Mapped[list[Question]] = relationship(
        back_populates="template",
        lazy="selectin",
        order_by="Question.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (UniqueConstraint("kind", "version", name="uq_survey_templates_kind_version"),)


class Question(db.Model):
    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("survey_templates.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    text: Mapped[str] = mapped_column(String(500))
    type: Mapped[QuestionType] = mapped_column(enum_type(QuestionType))
    required: Mapped[bool] = mapped_column(default=True)
    #: The choices of a single or multiple choice question, in order.
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    metric: Mapped[Metric | None] = mapped_column(enum_type(Metric))

    template: Mapped[SurveyTemplate] = relationship(back_populates="questions", lazy="raise")


class Invitation(db.Model):
    """A personal survey link. It records whom it was sent to, that it was used (no day) and
    the day its batch of answers was released."""

    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[SurveyKind] = mapped_column(enum_type(SurveyKind))
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Post-course: the enrolment surveyed (its course is the response's course).
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), unique=True
    )
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    #: Half-yearly: the half-year surveyed, e.g. "2027H1".
    half: Mapped[str | None] = mapped_column(String(6))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: How many reminders went out (after 3 and after 7 days).
    reminders_sent: Mapped[int] = mapped_column(default=0)
    #: The link was used: its answers are sealed in the pending box or released. Only the
    #: fact, no day; a second submission is refused.
    submitted: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The day the batch holding this person's answers was released into the reports (the
    #: same day for everyone in the batch); None until then. Reports read this, never
    #: `submitted`, so that they change only at a release.
    answered_on: Mapped[date | None] = mapped_column(Date)

    learner: Mapped[User] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("learner_id", "half", name="uq_survey_invitations_learner_half"),
        Index("ix_survey_invitations_kind_answered", "kind", "answered_on"),
    )


def new_response_id() -> str:
    return uuid.uuid4().hex


class PendingAnswers(db.Model):
    """One submission's answers, sealed, waiting for the release of their group.

    Nothing here but the group to release them with: no person, no time, no running
    number (the id is random). `sealed` is AES-GCM under a key derived from `SECRET_KEY`
    over a plaintext padded to a length fixed per template, so every row of a group has the
    same length whatever the comments say (see surveys/sealing.py).
    """

    __tablename__ = "survey_pending_answers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_response_id)
    kind: Mapped[SurveyKind] = mapped_column(enum_type(SurveyKind))
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    half: Mapped[str | None] = mapped_column(String(6))
    #: The template version answered: a batch never mixes versions, whose change a reader
    #: could date.
    template_id: Mapped[int] = mapped_column(ForeignKey("survey_templates.id"), index=True)
    #: Submitted after the survey window had closed: such answers wait until k of them
    #: have gathered, rather than being released alone.
    after_close: Mapped[bool] = mapped_column(default=False, server_default=false())
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Response(db.Model):
    """One anonymous set of answers. No person, no token, no time; a random id."""

    __tablename__ = "survey_responses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_response_id)
    template_id: Mapped[int] = mapped_column(ForeignKey("survey_templates.id"), index=True)
    kind: Mapped[SurveyKind] = mapped_column(enum_type(SurveyKind))
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    half: Mapped[str | None] = mapped_column(String(6), index=True)
    #: Released in a batch smaller than k, when the survey window closed: the report says
    #: so, as such an answer is less anonymous than the others.
    small_batch: Mapped[bool] = mapped_column(default=False, server_default=false())


class Answer(db.Model):
    """One answer; a multiple-choice question has a row per ticked choice.

    Keyed by (response, question, choice) with no running number, so the storage order
    tells nothing about who answered when.
    """

    __tablename__ = "survey_answers"

    response_id: Mapped[str] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    #: 0 for single-valued questions; the choice number (1-based) for multiple choice.
    choice: Mapped[int] = mapped_column(primary_key=True, default=0)
    #: The scale value (1-5) or the chosen option (1-based); None for free text.
    value: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Reports group answers by question and value per response set: a covering index,
        # and a small one for the free-text answers only (measured in bench/).
        Index("ix_survey_answers_response_question_value", "response_id", "question_id", "value"),
        Index(
            "ix_survey_answers_comments",
            "response_id",
            # `text` is the column here, hence the alias of sqlalchemy.text.
            sqlite_where=sql_text("text IS NOT NULL"),
            postgresql_where=sql_text("text IS NOT NULL"),
        ),
    )


class _ReportScope:
    """The columns that say which report scope a counter belongs to."""

    #: The scope's name (Scope.name: kind, course, half-year), unique with the rest of the
    #: counter's key where the nullable columns could not be.
    scope: Mapped[str] = mapped_column(String(64))
    kind: Mapped[SurveyKind] = mapped_column(enum_type(SurveyKind))
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    half: Mapped[str | None] = mapped_column(String(6), index=True)


class Tally(_ReportScope, db.Model):
    """Released answers counted per report scope, question and value: what the reports
    read, so that a year's report costs the same at ten years of answers as at one.

    A release adds its batch here in its own transaction (surveys.services._release),
    under the scope's lock, so the tallies always equal a count of the released answers
    (tests/surveys/test_tallies.py recounts them). Free-text answers are not counted:
    the comments are read from the answers themselves, a few per question.
    """

    __tablename__ = "survey_tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[int]
    count: Mapped[int]

    __table_args__ = (UniqueConstraint("scope", "question_id", "value"),)


class ReleasedCount(_ReportScope, db.Model):
    """Responses released per report scope and template version (see Tally)."""

    __tablename__ = "survey_released_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("survey_templates.id"), index=True)
    responses: Mapped[int]
    #: Of them, released in a batch smaller than k (Response.small_batch).
    small_batch: Mapped[int]

    __table_args__ = (UniqueConstraint("scope", "template_id"),)


class InstructorMeeting(db.Model):
    """An instructor meeting (강사 간담회, standard 6), fed by the learners' feedback."""

    __tablename__ = "instructor_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    #: The half-year the meeting belongs to, e.g. "2027H1".
    half: Mapped[str] = mapped_column(String(6))
    title: Mapped[str] = mapped_column(String(200))
    #: Instructors and staff who attend (user ids), and anybody else by name.
    attendee_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    other_attendees: Mapped[str] = mapped_column(String(500), default="")
    agenda: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
