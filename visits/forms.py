"""Forms for on-site training requests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import Email, Length, NumberRange, Optional, ValidationError

from app.core.forms import Form, NotBlank, strip_filter
from app.core.timeutil import local_to_utc
from app.core.vocabulary import REGION_LABELS, Region, choices
from courses.models import AUDIENCE_LABELS, Audience
from visits.models import CHECKLIST_STATUS_LABELS, CP_STATUS_LABELS, NEED_LABELS, ChecklistStatus


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ContactFields(Form):
    """The company's contact person, asked by every request form."""

    contact_name = StringField(
        _l("Contact person"), filters=[strip_filter], validators=[NotBlank(), Length(max=100)]
    )
    contact_phone = StringField(
        _l("Phone"), filters=[strip_filter], validators=[NotBlank(), Length(max=30)]
    )
    contact_email = EmailField(
        _l("E-mail"),
        filters=[strip_filter],
        validators=[NotBlank(), Email(message=_l("Enter a valid e-mail address."))],
    )


class OnsiteRequestForm(ContactFields):
    title = StringField(
        _l("Training title"),
        filters=[strip_filter],
        validators=[NotBlank(), Length(max=200)],
        description=_l("e.g. Classification practice for our R&D team"),
    )
    topics = CheckboxesField(_l("Topics from our courses"), validate_choice=True)
    content = TextAreaField(
        _l("What should the training cover?"),
        filters=[strip_filter],
        validators=[NotBlank(), Length(max=5000)],
    )
    date_1 = StringField(
        _l("Preferred date 1"),
        filters=[strip_filter],
        validators=[NotBlank(), Length(max=100)],
        description=_l("A date or a period, e.g. 2027-04-14 or mid-April"),
    )
    date_2 = StringField(
        _l("Preferred date 2"), filters=[strip_filter], validators=[NotBlank(), Length(max=100)]
    )
    date_3 = StringField(
        _l("Preferred date 3"), filters=[strip_filter], validators=[Optional(), Length(max=100)]
    )
    address = StringField(
        _l("Address of the venue"), filters=[strip_filter], validators=[NotBlank(), Length(max=300)]
    )
    region = SelectField(_l("Region"), choices=choices(REGION_LABELS))
    audience = SelectField(_l("Audience"), choices=choices(AUDIENCE_LABELS))
    expected_headcount = IntegerField(
        _l("Expected participants"),
        validators=[
            NotBlank(_l("Enter the expected number of participants.")),
            NumberRange(min=1, max=1000, message=_l("Between 1 and 1,000.")),
        ],
    )
    venue_capacity = IntegerField(
        _l("Seats at the venue"),
        validators=[Optional(), NumberRange(min=1, max=1000, message=_l("Between 1 and 1,000."))],
        description=_l("Sign-ups stop when the venue is full."),
    )
    notes = TextAreaField(
        _l("Notes"), filters=[strip_filter], validators=[Optional(), Length(max=2000)]
    )

    def details_data(self) -> dict[str, Any]:
        """The valid input, typed: the fields of the service's `RequestDetails`."""
        return {
            "title": self.title.data,
            "content": self.content.data,
            "topics": list(self.topics.data or []),
            "preferred_dates": [
                self.date_1.data or "",
                self.date_2.data or "",
                self.date_3.data or "",
            ],
            "address": self.address.data,
            "region": Region(self.region.data),
            "audience": Audience(self.audience.data),
            "expected_headcount": self.expected_headcount.data,
            "venue_capacity": self.venue_capacity.data,
            "contact_name": self.contact_name.data,
            "contact_phone": self.contact_phone.data,
            "contact_email": self.contact_email.data,
            "notes": self.notes.data or "",
        }


class SignupForm(Form):
    name = StringField(_l("Name"), filters=[strip_filter], validators=[NotBlank(), Length(max=100)])
    email = EmailField(
        _l("E-mail"),
        filters=[strip_filter],
        validators=[
            NotBlank(),
            Email(message=_l("Enter a valid e-mail address.")),
            Length(max=254),
        ],
    )
    department = StringField(
        _l("Department"), filters=[strip_filter], validators=[Optional(), Length(max=100)]
    )


class DeclineForm(Form):
    reason = TextAreaField(
        _l("Reason"), filters=[strip_filter], validators=[NotBlank(), Length(max=500)]
    )


class ExtendForm(Form):
    deadline = DateField(_l("New sign-up deadline"), validators=[NotBlank(_l("Choose a date."))])


class ScheduleForm(Form):
    title = StringField(
        _l("Course title"), filters=[strip_filter], validators=[NotBlank(), Length(max=200)]
    )
    content = TextAreaField(
        _l("Content and curriculum"), filters=[strip_filter], validators=[NotBlank()]
    )
    starts_at = DateTimeLocalField(
        _l("Starts"),
        format="%Y-%m-%dT%H:%M",
        validators=[NotBlank(_l("Enter a valid start date and time."))],
    )
    ends_at = DateTimeLocalField(
        _l("Ends"),
        format="%Y-%m-%dT%H:%M",
        validators=[NotBlank(_l("Enter a valid end date and time."))],
    )
    hours = DecimalField(
        _l("Total hours"),
        places=1,
        validators=[
            NotBlank(_l("Enter the total hours.")),
            NumberRange(
                min=Decimal("0.5"), max=Decimal("999"), message=_l("Between 0.5 and 999 hours.")
            ),
        ],
    )
    instructor_ids = SelectMultipleField(_l("Instructors"), coerce=int, validate_choice=True)

    def validate_ends_at(self, field) -> None:
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(str(_l("The course must end after it starts.")))

    def plan_data(self) -> dict[str, Any]:
        """The valid input, typed (UTC times): the fields of the service's `Schedule`."""
        return {
            "starts_at": local_to_utc(self.starts_at.data),
            "ends_at": local_to_utc(self.ends_at.data),
            "hours": self.hours.data,
            "instructor_ids": list(self.instructor_ids.data or []),
            "title": self.title.data,
            "content": self.content.data,
        }


#: Per line of a quote; three lines together still fit the total's INTEGER column.
QUOTE_AMOUNT_RANGE = NumberRange(
    min=0, max=500_000_000, message=_l("Enter an amount from 0 to 500,000,000 won.")
)


class QuoteForm(Form):
    item_1 = StringField(
        _l("Item"), filters=[strip_filter], validators=[NotBlank(), Length(max=200)]
    )
    amount_1 = IntegerField(
        _l("Amount (KRW)"),
        validators=[
            NotBlank(_l("Enter an amount.")),
            QUOTE_AMOUNT_RANGE,
        ],
    )
    item_2 = StringField(
        _l("Item"), filters=[strip_filter], validators=[Optional(), Length(max=200)]
    )
    amount_2 = IntegerField(
        _l("Amount (KRW)"),
        validators=[Optional(), QUOTE_AMOUNT_RANGE],
    )
    item_3 = StringField(
        _l("Item"), filters=[strip_filter], validators=[Optional(), Length(max=200)]
    )
    amount_3 = IntegerField(
        _l("Amount (KRW)"),
        validators=[Optional(), QUOTE_AMOUNT_RANGE],
    )

    def items(self) -> list[tuple[str, int]]:
        return [
            (self[f"item_{n}"].data or "", self[f"amount_{n}"].data or 0)
            for n in (1, 2, 3)
            if self[f"item_{n}"].data
        ]


# --- CP mentoring ------------------------------------------------------------------------------


class MentoringForm(ContactFields):
    cp_status = SelectField(
        _l("Your compliance programme today"), choices=choices(CP_STATUS_LABELS)
    )
    needs = CheckboxesField(_l("What help do you need?"), choices=choices(NEED_LABELS))
    preferred_dates = StringField(
        _l("Preferred dates"),
        filters=[strip_filter],
        validators=[NotBlank(), Length(max=300)],
        description=_l("e.g. Tuesday or Thursday afternoons in May"),
    )
    notes = TextAreaField(
        _l("Notes"), filters=[strip_filter], validators=[Optional(), Length(max=2000)]
    )

    def validate_needs(self, field) -> None:
        if not field.data:
            raise ValidationError(str(_l("Choose at least one kind of help.")))


class AssignForm(Form):
    mentor_id = SelectField(_l("Mentor"), coerce=int, validate_choice=True)


class VisitForm(Form):
    visited_on = DateField(_l("Date of the visit"), validators=[NotBlank(_l("Choose a date."))])
    attendees = StringField(
        _l("Attendees"), filters=[strip_filter], validators=[NotBlank(), Length(max=500)]
    )
    topics = TextAreaField(_l("Topics"), filters=[strip_filter], validators=[NotBlank()])
    findings = TextAreaField(_l("Findings"), filters=[strip_filter], validators=[NotBlank()])
    action_1 = StringField(
        _l("Follow-up action"), filters=[strip_filter], validators=[Optional(), Length(max=500)]
    )
    due_1 = DateField(_l("Due"), validators=[Optional()])
    action_2 = StringField(
        _l("Follow-up action"), filters=[strip_filter], validators=[Optional(), Length(max=500)]
    )
    due_2 = DateField(_l("Due"), validators=[Optional()])
    action_3 = StringField(
        _l("Follow-up action"), filters=[strip_filter], validators=[Optional(), Length(max=500)]
    )
    due_3 = DateField(_l("Due"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for n in (1, 2, 3):
            if self[f"action_{n}"].data and not self[f"due_{n}"].data:
                self[f"due_{n}"].errors.append(str(_l("Give the action a due date.")))
                valid = False
        return valid

    def actions(self) -> list:
        return [
            (self[f"action_{n}"].data, self[f"due_{n}"].data)
            for n in (1, 2, 3)
            if self[f"action_{n}"].data
        ]


def checklist_form_class(item_ids: list[int]) -> type[Form]:
    """A case's checklist: a status and a note per criterion (fields `status-<id>`,
    `notes-<id>`), built per case like the survey's answer form."""

    class ChecklistForm(Form):
        def changes(self) -> dict[int, tuple[ChecklistStatus, str]]:
            return {
                item_id: (
                    ChecklistStatus(self[f"status-{item_id}"].data),
                    self[f"notes-{item_id}"].data or "",
                )
                for item_id in item_ids
                if self[f"status-{item_id}"].raw_data
            }

    for item_id in item_ids:
        setattr(
            ChecklistForm,
            f"status-{item_id}",
            # A status not posted keeps its value (see `changes`); no Optional(), which would
            # clear the "not a valid choice" error of a blank or whitespace status.
            SelectField(
                choices=choices(CHECKLIST_STATUS_LABELS), default=ChecklistStatus.NOT_STARTED.value
            ),
        )
        setattr(
            ChecklistForm,
            f"notes-{item_id}",
            StringField(filters=[strip_filter], validators=[Optional(), Length(max=1000)]),
        )
    return ChecklistForm


def checklist_items_form_class(item_ids: list[int]) -> type[Form]:
    """Staff's list of criteria: title, description and "in use" per item, and one new row
    (fields `title-<id>`… and `title-new`…)."""

    class ChecklistItemsForm(Form):
        def rows(self) -> list[tuple[int | None, str, str, bool]]:
            return [
                (
                    None if key == "new" else int(key),
                    self[f"title-{key}"].data or "",
                    self[f"description-{key}"].data or "",
                    bool(self[f"active-{key}"].data),
                )
                for key in [*map(str, item_ids), "new"]
            ]

    for key in [*map(str, item_ids), "new"]:
        setattr(
            ChecklistItemsForm,
            f"title-{key}",
            StringField(filters=[strip_filter], validators=[Optional(), Length(max=200)]),
        )
        setattr(
            ChecklistItemsForm,
            f"description-{key}",
            StringField(filters=[strip_filter], validators=[Optional(), Length(max=500)]),
        )
        setattr(ChecklistItemsForm, f"active-{key}", BooleanField())
    return ChecklistItemsForm
