"""Forms for certificates: the staff's reasons, and the public verification form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, ValidationError
from wtforms.validators import Length

from app.core.forms import Form, NotBlank, strip_filter
from certificates.models import CODE_LENGTH, CODE_PATTERN


class CertificateReasonForm(Form):
    reason = StringField(
        _l("Reason"), filters=[strip_filter], validators=[NotBlank(), Length(max=300)]
    )


def code_filter(value: str | None) -> str | None:
    """A code as people type it from paper: spaces, hyphens and lower case are forgiven."""
    if value is None:
        return None
    return "".join(ch for ch in value if ch not in " -\u00a0\t").upper()


class VerifyCodeForm(Form):
    """The code printed under the QR code, typed in; read from the query string."""

    class Meta:
        csrf = False  # a GET form: anyone may look a code up, and no session is made

    code = StringField(
        _l("Verification code"),
        filters=[code_filter],
        validators=[NotBlank(message=_l("Enter the verification code.")), Length(max=40)],
    )

    def validate_code(self, field) -> None:
        if not CODE_PATTERN.match(field.data or ""):
            raise ValidationError(
                _l(
                    "A verification code has %(n)d letters and digits, as printed under the "
                    "QR code on the certificate.",
                    n=CODE_LENGTH,
                )
            )
