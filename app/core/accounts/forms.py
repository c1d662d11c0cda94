"""Password fields, the same on every form that sets a password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import EqualTo, Length

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
