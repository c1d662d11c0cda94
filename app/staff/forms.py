"""Forms of the staff area."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SearchField, SelectField
from wtforms.validators import Length, Optional

from app.core.forms import Form, strip_filter
from app.core.outbox import MailStatus

MAIL_STATUS_LABELS = {
    MailStatus.PENDING: _l("Waiting to be sent"),
    MailStatus.SENDING: _l("Being sent"),
    MailStatus.SENT: _l("Sent"),
    MailStatus.FAILED: _l("Failed"),
}


class MailLogFilterForm(Form):
    """The mail log's search, read from the query string."""

    class Meta:
        csrf = False

    recipient = SearchField(
        _l("Recipient"), filters=[strip_filter], validators=[Optional(), Length(max=254)]
    )
    kind = SelectField(_l("Kind of mail"), default="")
    status = SelectField(
        _l("Status"),
        choices=[("", _l("Any status"))]
        + [(status.value, label) for status, label in MAIL_STATUS_LABELS.items()],
        default="",
    )
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])

    def with_kinds(self, kinds: list[tuple[str, str]]) -> MailLogFilterForm:
        self.kind.choices = [("", str(_l("Any kind"))), *kinds]
        return self

    def search_data(self) -> dict[str, Any]:
        """The valid part of the search, typed; an invalid filter is left out (and shown)."""
        self.validate()

        def value(field, kind=lambda data: data):
            return kind(field.data) if field.data and not field.errors else None

        return {
            "recipient": value(self.recipient),
            "kind": value(self.kind),
            "status": value(self.status, MailStatus),
            "since": value(self.since),
            "until": value(self.until),
        }


#: What staff call each kind of mail (templates/mail/<kind>.html); a test checks that
#: every template has its label here.
MAIL_KIND_LABELS = {
    "account_exists": _l("Registration with an existing address"),
    "account_invitation": _l("Account invitation"),
    "course_cancelled": _l("Course cancelled"),
    "course_changed": _l("Course date or place changed"),
    "course_invitation": _l("Invitation from a company"),
    "course_reminder": _l("Day-before reminder"),
    "email_confirm": _l("Address confirmation"),
    "mentoring_status": _l("CP mentoring case update"),
    "message": _l("Message"),
    "newsletter": _l("Newsletter"),
    "newsletter_confirm": _l("Newsletter confirmation"),
    "onsite_lapsed": _l("On-site training will not take place"),
    "onsite_request_status": _l("On-site request update"),
    "onsite_signup_confirm": _l("On-site sign-up confirmation"),
    "password_reset": _l("Password reset"),
    "seat_promoted": _l("Seat from the waiting list"),
    "survey_half_yearly": _l("Half-yearly survey"),
    "survey_post_course": _l("Post-course survey"),
}


def mail_kind_label(kind: str) -> str:
    return str(MAIL_KIND_LABELS.get(kind, kind))
