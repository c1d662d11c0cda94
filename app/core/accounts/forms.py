"""Password fields, the same on every form that sets a password, and consent boxes, the
same on every form that creates an account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField
from wtforms.validators import EqualTo, Length, StopValidation

from app.core.accounts.consent import CONSENT_ITEMS
from app.core.accounts.services import MIN_PASSWORD_LENGTH
from app.core.forms import NotBlank


def new_password_field(label) -> PasswordField:
    """A new password: required, and long enough."""
    return PasswordField(
        label,
        validators=[
            NotBlank(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            ),
        ],
    )


def confirmation_field(label, of: str) -> PasswordField:
    return PasswordField(
        label, validators=[NotBlank(), EqualTo(of, message=_l("The passwords do not match."))]
    )


class Agreed:
    """A required consent box: unticked, the form does not go on."""

    def __call__(self, form, field) -> None:
        if not field.data:
            field.errors[:] = []
            raise StopValidation(str(_l("Please agree to the required item to continue.")))


def consent_field(key: str) -> BooleanField:
    """The box of one consent item (`consent.CONSENT_ITEMS`); a form names it
    `consent_<key>`, and the template shows the item's text beside it."""
    text = CONSENT_ITEMS[key]
    return BooleanField(text.label, validators=[Agreed()] if text.required else [])


def consented(form) -> list[str]:
    """The items whose box the person ticked on `form`."""
    return [
        key
        for key in CONSENT_ITEMS
        if getattr(form, f"consent_{key}", None) and form[f"consent_{key}"].data
    ]
