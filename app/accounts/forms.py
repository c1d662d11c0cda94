"""Sign-in, registration and password forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import Email, Length, Optional

from app.core.accounts.consent import NEWSLETTER, PRIVACY
from app.core.accounts.forms import confirmation_field, consent_field, new_password_field
from app.core.forms import Form, NotBlank, strip_filter
from app.core.vocabulary import COMPANY_SIZE_LABELS, REGION_LABELS, choices


class LoginForm(Form):
    email = EmailField(_l("E-mail"), filters=[strip_filter], validators=[NotBlank(), Email()])
    password = PasswordField(_l("Password"), validators=[NotBlank()])


def _name_field(**extra) -> StringField:
    return StringField(
        _l("Name"), filters=[strip_filter], validators=[NotBlank(), Length(max=100)], **extra
    )


class _ContactFields(Form):
    name = _name_field()
    phone = StringField(
        _l("Phone"), filters=[strip_filter], validators=[Optional(), Length(max=30)]
    )
    department = StringField(
        _l("Department"), filters=[strip_filter], validators=[Optional(), Length(max=100)]
    )


class ProfileForm(_ContactFields):
    """What a person corrects about themselves: the name certificates are issued in, and
    how the education team reaches them."""

    name = _name_field(description=_l("As it should appear on your certificates."))


class _PersonFields(_ContactFields):
    email = EmailField(
        _l("E-mail"),
        filters=[strip_filter],
        validators=[
            NotBlank(),
            Email(message=_l("Enter a valid e-mail address.")),
            Length(max=254),
        ],
    )
    password = new_password_field(_l("Password"))
    confirm = confirmation_field(_l("Confirm password"), of="password")
    consent_privacy = consent_field(PRIVACY)
    consent_newsletter = consent_field(NEWSLETTER)


class RegistrationForm(_PersonFields):
    """A learner's own registration."""


class CompanyRegistrationForm(_PersonFields):
    """A company's training contact registers the company and their own account."""

    company_name = StringField(
        _l("Company name"), filters=[strip_filter], validators=[NotBlank(), Length(max=200)]
    )
    business_number = StringField(
        _l("Business registration number"),
        filters=[strip_filter],
        validators=[NotBlank(), Length(max=20)],
        description=_l("10 digits, e.g. 123-45-67890"),
    )
    region = SelectField(_l("Region"), choices=choices(REGION_LABELS), validators=[NotBlank()])
    size = SelectField(
        _l("Company size"), choices=choices(COMPANY_SIZE_LABELS), validators=[NotBlank()]
    )


class PasswordChangeForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[NotBlank()])
    new_password = new_password_field(_l("New password"))
    confirm = confirmation_field(_l("Confirm new password"), of="new_password")


class SetPasswordForm(Form):
    password = new_password_field(_l("New password"))
    confirm = confirmation_field(_l("Confirm new password"), of="password")


class AcceptAccountForm(SetPasswordForm):
    """An account the institute made for a person (an on-site training participant): they
    choose a password and give the consents that registration would have asked for."""

    consent_privacy = consent_field(PRIVACY)
    consent_newsletter = consent_field(NEWSLETTER)


class ForgotPasswordForm(Form):
    email = EmailField(_l("E-mail"), filters=[strip_filter], validators=[NotBlank(), Email()])


class DeleteAccountForm(Form):
    password = PasswordField(_l("Your password"), validators=[NotBlank()])
