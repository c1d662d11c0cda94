"""Forms for staff course management and the catalog filters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    IntegerField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.core.accounts.consent import NEWSLETTER, PRIVACY
from app.core.accounts.forms import confirmation_field, consent_field, new_password_field
from app.core.edge import text_problem
from app.core.forms import Form, NotBlank, strip_filter
from app.core.timeutil import local_to_utc
from app.core.vocabulary import REGION_LABELS, Region, choices
from courses.models import (
    ATTENDANCE_LABELS,
    AUDIENCE_LABELS,
    FORMAT_LABELS,
    SIZE_FOCUS_LABELS,
    TOPIC_LABELS,
    AttendanceStatus,
    Audience,
    CourseFormat,
    SizeFocus,
    Topic,
)
from courses.paging import API_MAX_LIMIT, decode_cursor
from courses.schedule import schedule_problem

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
MAX_FILE_NAME = 200
#: A company's address list; 300 addresses take far less.
BULK_FILE_MAX_BYTES = 1024 * 1024


class CourseForm(Form):
    title = StringField(
        _l("Title"), filters=[strip_filter], validators=[NotBlank(), Length(max=200)]
    )
    summary = StringField(
        _l("Summary"), filters=[strip_filter], validators=[NotBlank(), Length(max=500)]
    )
    content = TextAreaField(
        _l("Content and curriculum"), filters=[strip_filter], validators=[NotBlank()]
    )
    audience = SelectField(_l("Audience"), choices=choices(AUDIENCE_LABELS))
    size_focus = SelectField(_l("Company size"), choices=choices(SIZE_FOCUS_LABELS))
    format = SelectField(_l("Format"), choices=choices(FORMAT_LABELS))
    region = SelectField(_l("Region"), choices=choices(REGION_LABELS))
    topic = SelectField(
        _l("Topic"),
        choices=[SelectChoice("", _l("No topic")), *choices(TOPIC_LABELS)],
        default="",
        coerce=lambda value: "" if value is None else str(value),
        description=_l(
            "People who asked to be told of a course on this topic get a mail "
            "when the course is announced."
        ),
    )
    venue = StringField(
        _l("Venue"), filters=[strip_filter], validators=[NotBlank(), Length(max=200)]
    )
    starts_at = DateTimeLocalField(
        _l("Starts"),
        format=DATETIME_FORMAT,
        validators=[NotBlank(_l("Enter a valid start date and time."))],
    )
    ends_at = DateTimeLocalField(
        _l("Ends"),
        format=DATETIME_FORMAT,
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
    capacity = IntegerField(
        _l("Capacity"),
        validators=[
            NotBlank(_l("Enter the capacity.")),
            NumberRange(min=1, max=10000, message=_l("The capacity must be between 1 and 10,000.")),
        ],
    )
    fee = IntegerField(
        _l("Fee (KRW)"),
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=100_000_000, message=_l("The fee cannot be negative.")),
        ],
    )
    instructor_ids = SelectMultipleField(_l("Instructors"), coerce=int, validate_choice=True)
    requires_survey = BooleanField(_l("The post-course survey opens the certificate"), default=True)
    change_reason = TextAreaField(
        _l("Reason for a change of date, time or place"),
        description=_l(
            "Everyone enrolled or waiting gets a mail about a new date, time or place, "
            "with this reason and an updated calendar entry."
        ),
        filters=[strip_filter],
        validators=[Optional(), Length(max=500)],
    )

    def validate_ends_at(self, field: DateTimeLocalField) -> None:
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(str(_l("The course must end after it starts.")))
        if self.starts_at.data and field.data and self.hours.data and self.hours.data > 0:
            problem = schedule_problem(
                local_to_utc(self.starts_at.data), local_to_utc(field.data), self.hours.data
            )
            if problem:
                raise ValidationError(problem)

    def details_data(self) -> dict[str, Any]:
        """The valid input, typed (enums, UTC times): the fields of `CourseDetails`."""
        return {
            "title": self.title.data,
            "summary": self.summary.data,
            "content": self.content.data,
            "audience": Audience(self.audience.data),
            "size_focus": SizeFocus(self.size_focus.data),
            "format": CourseFormat(self.format.data),
            "region": Region(self.region.data),
            "venue": self.venue.data,
            "starts_at": local_to_utc(self.starts_at.data),
            "ends_at": local_to_utc(self.ends_at.data),
            "hours": self.hours.data,
            "capacity": self.capacity.data,
            "fee": self.fee.data or 0,
            "instructor_ids": list(self.instructor_ids.data or []),
            "requires_survey": bool(self.requires_survey.data),
            "topic": Topic(self.topic.data) if self.topic.data else None,
        }


class CancelCourseForm(Form):
    reason = TextAreaField(
        _l("Reason for cancellation"),
        filters=[strip_filter],
        validators=[NotBlank(), Length(max=500)],
    )


class MaterialForm(Form):
    title = StringField(
        _l("Title"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=200)],
        description=_l("Upload under an existing title to add a newer version."),
    )
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))])

    def validate_file(self, field: FileField) -> None:
        name = (field.data.filename or "") if field.data else ""
        if len(name) > MAX_FILE_NAME or text_problem(name):
            raise ValidationError(
                str(
                    _l(
                        "Rename the file (at most %(n)d characters) and upload it again.",
                        n=MAX_FILE_NAME,
                    )
                )
            )


class ApiCoursesQuery(Form):
    """The query of `/api/v1/courses`."""

    class Meta:
        csrf = False

    year = IntegerField(
        validators=[
            InputRequired(),
            NumberRange(min=2000, max=2100),
        ]
    )
    limit = IntegerField(validators=[Optional(), NumberRange(min=1, max=API_MAX_LIMIT)])
    cursor = StringField(validators=[Optional(), Length(max=200)])

    def validate_cursor(self, field: StringField) -> None:
        if field.data and decode_cursor(field.data) is None:
            raise ValidationError("not a cursor this API gave out")


def _any(labels: dict, *, without: object = None) -> list[SelectChoice]:
    """A filter's choices: "any" first. `without`: the value a course takes when it is for
    everyone, which every other choice already includes, so it is no choice of its own
    (it would read as a second "all" beside "any")."""
    kept = {value: label for value, label in labels.items() if value != without}
    return [SelectChoice("", _l("Any")), *choices(kept)]


class CourseFilterForm(Form):
    """The catalog and calendar filters, read from the query string."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), filters=[strip_filter], validators=[Optional(), Length(max=100)])
    year = IntegerField(
        _l("Year"),
        validators=[
            Optional(),
            NumberRange(min=2000, max=2100, message=_l("Choose a year between 2000 and 2100.")),
        ],
    )
    # No Optional(): it would clear the "not a valid choice" error of "?audience=+".
    audience = SelectField(
        _l("Audience"), choices=_any(AUDIENCE_LABELS, without=Audience.ALL), default=""
    )
    size = SelectField(
        _l("Company size"), choices=_any(SIZE_FOCUS_LABELS, without=SizeFocus.ALL), default=""
    )
    region = SelectField(_l("Region"), choices=_any(REGION_LABELS), default="")
    format = SelectField(_l("Format"), choices=_any(FORMAT_LABELS), default="")

    def filter_data(self, *, year: int | None = None) -> dict[str, Any]:
        """The valid part of the filters, typed: the fields of `CourseFilter`. An invalid
        filter is left out (and shown as an error); None means 'any'."""
        self.validate()

        def value(field, kind):
            return kind(field.data) if field.data and not field.errors else None

        return {
            "year": year if year is not None else value(self.year, int),
            "audience": value(self.audience, Audience),
            "size_focus": value(self.size, SizeFocus),
            "region": value(self.region, Region),
            "format": value(self.format, CourseFormat),
            "text": self.q.data if self.q.data and not self.q.errors else None,
        }


class ReasonForm(Form):
    reason = StringField(
        _l("Reason"), filters=[strip_filter], validators=[NotBlank(), Length(max=300)]
    )


class StaffEnrolForm(Form):
    email = EmailField(
        _l("Learner's e-mail"), filters=[strip_filter], validators=[NotBlank(), Email()]
    )
    reason = StringField(
        _l("Reason"), filters=[strip_filter], validators=[NotBlank(), Length(max=300)]
    )


class MoveInQueueForm(Form):
    position = IntegerField(
        _l("New position"),
        validators=[NotBlank(), NumberRange(min=1, message=_l("Enter a position from 1."))],
    )
    reason = StringField(
        _l("Reason"), filters=[strip_filter], validators=[NotBlank(), Length(max=300)]
    )


class BulkEnrolForm(Form):
    addresses = TextAreaField(
        _l("Employees' e-mail addresses"),
        description=_l(
            "One per line, with the name if you know it: 김민준 <minjun@example.com>. "
            "A CSV file may have a name column beside the e-mail column."
        ),
        validators=[Optional(), Length(max=20000)],
    )
    file = FileField(
        _l("Or a CSV file"),
        validators=[
            FileAllowed(["csv", "txt"], _l("Upload a .csv file.")),
            FileSize(BULK_FILE_MAX_BYTES, message=_l("The file may be at most 1 MB.")),
        ],
    )

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not (self.addresses.data or "").strip() and not self.file.data:
            self.addresses.errors.append(str(_l("Paste addresses or choose a CSV file.")))
            return False
        return True

    def address_text(self) -> str:
        """The pasted addresses and the file's text (UTF-8, with or without a BOM)."""
        text = self.addresses.data or ""
        if self.file.data:
            text += "\n" + self.file.data.read().decode("utf-8-sig", errors="replace")
        return text


def attendance_form_class(roster: list, marks: dict):
    """One radio group per learner on the roster (WTForms' documented dynamic form)."""

    class AttendanceForm(Form):
        pass

    for enrollment in roster:
        setattr(
            AttendanceForm,
            f"e{enrollment.id}",
            RadioField(
                enrollment.learner.name,
                choices=choices(ATTENDANCE_LABELS),
                default=str(marks.get(enrollment.id, AttendanceStatus.PRESENT)),
                validators=[InputRequired(_l("Choose present, late or absent."))],
            ),
        )
    return AttendanceForm


class CheckInForm(Form):
    code = StringField(
        _l("Check-in code"),
        filters=[strip_filter],
        validators=[NotBlank(), Length(min=4, max=8)],
    )


class CompletionOverrideForm(Form):
    completed = SelectField(
        _l("Completion"),
        choices=[SelectChoice("1", _l("Completed")), SelectChoice("0", _l("Not completed"))],
    )
    reason = StringField(
        _l("Reason"), filters=[strip_filter], validators=[NotBlank(), Length(max=300)]
    )


class AnnouncementForm(Form):
    title = StringField(
        _l("Title"), filters=[strip_filter], validators=[NotBlank(), Length(max=300)]
    )
    body = TextAreaField(_l("Text"), filters=[strip_filter], validators=[NotBlank()])


class SubscribeForm(Form):
    email = EmailField(
        _l("E-mail"),
        filters=[strip_filter],
        validators=[NotBlank(), Email(message=_l("Enter a valid e-mail address."))],
    )


class DemandForm(Form):
    """A "notify me" sign-up: a topic, optionally a region and an audience, and a note."""

    email = EmailField(
        _l("E-mail"),
        filters=[strip_filter],
        validators=[
            NotBlank(_l("Enter your e-mail address.")),
            Length(max=254),
            Email(message=_l("Enter a valid e-mail address.")),
        ],
    )
    topic = SelectField(
        _l("Topic"),
        choices=[SelectChoice("", _l("Choose a topic")), *choices(TOPIC_LABELS)],
        default="",
        validators=[NotBlank(_l("Choose the topic you would like a course on."))],
    )
    region = SelectField(
        _l("Region"),
        choices=_any(REGION_LABELS),
        default="",
        description=_l("Where you would attend."),
    )
    audience = SelectField(
        _l("Audience"), choices=_any(AUDIENCE_LABELS, without=Audience.ALL), default=""
    )
    note = TextAreaField(
        _l("What would you need? (optional)"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=500, message=_l("At most 500 characters."))],
        description=_l(
            "For example the items you export, or a date that suits you. Our staff read it."
        ),
    )

    def wish(self) -> dict[str, Any]:
        """The valid input, typed: the arguments of `demand.register_interest`."""
        return {
            "topic": Topic(self.topic.data),
            "region": Region(self.region.data) if self.region.data else None,
            "audience": Audience(self.audience.data) if self.audience.data else None,
            "note": self.note.data or None,
        }


class AcceptInvitationForm(Form):
    """A person invited by their company sets up their account while accepting."""

    name = StringField(
        _l("Name"),
        filters=[strip_filter],
        validators=[NotBlank(), Length(max=100)],
        description=_l("As it should appear on your certificate."),
    )
    password = new_password_field(_l("Password"))
    confirm = confirmation_field(_l("Confirm password"), of="password")
    consent_privacy = consent_field(PRIVACY)
    consent_newsletter = consent_field(NEWSLETTER)
