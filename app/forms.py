"""Form pieces shared by every area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import StopValidation


def strip_filter(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class NotBlank:
    """Like DataRequired, with a translated message and whitespace treated as empty."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            field.errors[:] = []
            raise StopValidation(str(self.message or _l("This field is required.")))
