"""The survey form, built from the template's questions, and the staff template editor."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from app.core.forms import FieldList, Form, NotBlank, SubForm, strip_filter
from app.core.vocabulary import choices
from surveys.models import (
    MAX_TEXT_LENGTH,
    QUESTION_TYPE_LABELS,
    QuestionType,
    SurveyTemplate,
)

LIKERT_CHOICES = [
    SelectChoice("1", _l("1 · Very dissatisfied")),
    SelectChoice("2", _l("2 · Dissatisfied")),
    SelectChoice("3", _l("3 · Neutral")),
    SelectChoice("4", _l("4 · Satisfied")),
    SelectChoice("5", _l("5 · Very satisfied")),
]


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def answer_form_class(template: SurveyTemplate):
    """One field per question, named q<id> (WTForms' documented way to build dynamic forms)."""

    class AnswerForm(Form):
        pass

    for question in template.questions:
        presence = (
            [InputRequired(_l("Please answer this question."))]
            if question.required
            else [Optional()]
        )
        options = [SelectChoice(str(n), text) for n, text in enumerate(question.options, start=1)]
        if question.type == QuestionType.LIKERT:
            field = RadioField(
                question.text, choices=LIKERT_CHOICES, coerce=int, validators=presence
            )
        elif question.type == QuestionType.SINGLE:
            field = RadioField(question.text, choices=options, coerce=int, validators=presence)
        elif question.type == QuestionType.MULTIPLE:
            field = CheckboxesField(question.text, choices=options, coerce=int, validators=presence)
        else:
            field = TextAreaField(
                question.text,
                filters=[strip_filter],
                validators=[*presence, Length(max=MAX_TEXT_LENGTH)],
            )
        setattr(AnswerForm, f"q{question.id}", field)
    return AnswerForm


def answers_from(form, template: SurveyTemplate) -> dict:
    return {question.id: form[f"q{question.id}"].data for question in template.questions}


class QuestionForm(SubForm):
    text = StringField(
        _l("Question"), filters=[strip_filter], validators=[Optional(), Length(max=500)]
    )
    type = SelectField(_l("Type"), choices=choices(QUESTION_TYPE_LABELS))
    required = BooleanField(_l("Required"))
    options = StringField(
        _l("Options"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=1000)],
        description=_l("For choice questions: separated by |"),
    )
    #: The view offers the service-standard metric of the survey's kind.
    metric = SelectField(_l("Measures"), choices=[SelectChoice("", "–")])


class TemplateForm(Form):
    title = StringField(
        _l("Title"), filters=[strip_filter], validators=[NotBlank(), Length(max=200)]
    )
    intro = TextAreaField(_l("Introduction"), filters=[strip_filter], validators=[Optional()])
    questions = FieldList(FormField(QuestionForm), min_entries=1, max_entries=100)


class MeetingForm(Form):
    held_on = DateField(_l("Date"), validators=[InputRequired(_l("Choose a date."))])
    title = StringField(
        _l("Title"), filters=[strip_filter], validators=[NotBlank(), Length(max=200)]
    )
    attendee_ids = SelectMultipleField(
        _l("Attending instructors and staff"), coerce=int, validate_choice=True
    )
    other_attendees = StringField(
        _l("Other attendees"), filters=[strip_filter], validators=[Optional(), Length(max=500)]
    )
    agenda = TextAreaField(_l("Agenda"), filters=[strip_filter], validators=[Optional()])
    minutes = TextAreaField(_l("Minutes"), filters=[strip_filter], validators=[Optional()])
    decisions = TextAreaField(_l("Decisions"), filters=[strip_filter], validators=[Optional()])
