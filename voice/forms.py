"""Forms of the voice desk: filing, the filer's follow-up, and the staff's actions."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, Length, Optional, StopValidation

from app.core.forms import Form, NotBlank, strip_filter
from app.core.vocabulary import choices
from voice.models import (
    CLOCK_LABELS,
    KIND_LABELS,
    OUTCOME_LABELS,
    STATE_LABELS,
    ProposalOutcome,
    VoiceKind,
)

MAX_MESSAGE = 5000


class RequiredUnless:
    """Required unless the form says it may be left out (`form.<name>_optional`)."""

    def __init__(self, message) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if getattr(form, f"{field.name}_optional", False):
            Optional()(form, field)
        else:
            NotBlank(self.message)(form, field)


class FilingForm(Form):
    """Anyone's inquiry, proposal or complaint. Signed in, the name and address come from
    the account (prefilled, and the address may be left empty)."""

    kind = SelectField(_l("What is it?"), choices=choices(KIND_LABELS))
    subject = StringField(
        _l("Subject"), filters=[strip_filter], validators=[NotBlank(), Length(max=200)]
    )
    message = TextAreaField(
        _l("Your message"),
        filters=[strip_filter],
        validators=[NotBlank(), Length(max=MAX_MESSAGE)],
    )
    name = StringField(_l("Name"), filters=[strip_filter], validators=[NotBlank(), Length(max=100)])
    email = EmailField(
        _l("E-mail"),
        filters=[strip_filter],
        validators=[
            RequiredUnless(_l("Enter your e-mail address: the answer is sent there.")),
            Email(message=_l("Enter a valid e-mail address.")),
            Length(max=254),
        ],
        description=_l("The answer and the link to follow your item are sent here."),
    )
    phone = StringField(
        _l("Phone (optional)"), filters=[strip_filter], validators=[Optional(), Length(max=30)]
    )
    course_id = SelectField(
        _l("Related course (optional)"), choices=[], default="", validate_choice=True
    )
    consent = BooleanField(
        _l(
            "I agree that the institute processes my name, e-mail address, phone and message "
            "to answer me. They are kept for three years after the item is closed."
        )
    )

    #: Set by the view for a signed-in filer: the account's address is used when empty.
    email_optional = False

    def validate_consent(self, field) -> None:
        if not field.data:
            raise StopValidation(
                str(_l("Please agree to the processing of your personal data for the answer."))
            )

    def set_courses(self, rows: list[tuple[int, str]]) -> None:
        self.course_id.choices = [SelectChoice("", _l("No particular course"))] + [
            SelectChoice(str(course_id), label) for course_id, label in rows
        ]

    def filing_data(self) -> dict[str, Any]:
        return {
            "kind": VoiceKind(self.kind.data),
            "subject": self.subject.data,
            "message": self.message.data,
            "name": self.name.data,
            "email": self.email.data or "",
            "phone": self.phone.data or None,
            "course_id": int(self.course_id.data) if self.course_id.data else None,
            "consent": bool(self.consent.data),
        }


class FollowUpForm(Form):
    body = TextAreaField(
        _l("Add a message"),
        filters=[strip_filter],
        validators=[NotBlank(), Length(max=MAX_MESSAGE)],
    )


class ReplyForm(Form):
    body = TextAreaField(
        _l("Reply to the filer"),
        filters=[strip_filter],
        validators=[NotBlank(), Length(max=MAX_MESSAGE)],
        description=_l("Sent by mail, signed with your name and contact."),
    )
    interim = BooleanField(_l("Interim reply: the full answer will follow"))


class ResolveForm(Form):
    outcome = SelectField(
        _l("Result of the review"),
        choices=[SelectChoice("", "–"), *choices(OUTCOME_LABELS)],
    )
    resolution = TextAreaField(
        _l("Review result or measures taken"),
        filters=[strip_filter],
        validators=[NotBlank(), Length(max=MAX_MESSAGE)],
        description=_l("Reported to the filer by mail; this closes the item."),
    )

    def outcome_value(self) -> ProposalOutcome | None:
        return ProposalOutcome(self.outcome.data) if self.outcome.data else None


class AssignForm(Form):
    assignee_id = SelectField(
        _l("Staff in charge"),
        choices=[],
        validate_choice=True,
        validators=[NotBlank(_l("Choose a member of the education staff."))],
    )


class QueueFilterForm(Form):
    """The queue's filters, from the query string (no CSRF: a GET changes nothing). The
    selects have no Optional(): "" is one of their choices, and Optional() would skip the
    choice check for a value that only looks blank (U+2028), which then reaches the enum."""

    class Meta(Form.Meta):
        csrf = False

    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice("", _l("All kinds")), *choices(KIND_LABELS)],
    )
    state = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("Open items")), *choices(STATE_LABELS)],
    )
    clock = SelectField(
        _l("Response time"),
        choices=[SelectChoice("", _l("Any")), *choices(CLOCK_LABELS)],
    )
