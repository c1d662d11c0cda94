"""Staff forms for certificates."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length

from app.core.forms import Form, NotBlank, strip_filter


class CertificateReasonForm(Form):
    reason = StringField(
        _l("Reason"), filters=[strip_filter], validators=[NotBlank(), Length(max=300)]
    )
