"""The certificates feature's part of standard 10.

Issued certificates stay, as the institute must keep what it certified and a verifier
must still get an answer: the verify page shows the course, the hours and the dates, and
says that the holder's data was erased on request. The holder's name is replaced by
`ERASED_HOLDER` and the stored PDF (which prints the name) is dropped; a later download by
staff renders the document again with the placeholder.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from app.core.accounts.models import DELETED_NAME, User
from app.core.erasure import Person, scrub_columns
from app.core.extensions import db
from certificates.models import Certificate

#: The holder name of a certificate whose holder had their data deleted.
ERASED_HOLDER = DELETED_NAME


def export(user: User) -> dict[str, Any]:
    certificates = db.session.execute(
        select(Certificate).where(Certificate.learner_id == user.id).order_by(Certificate.issued_at)
    ).scalars()
    return {
        "certificates": [
            {
                "serial": c.serial,
                "course": c.course_title,
                "status": c.status.value,
                "issued_at": c.issued_at.isoformat(),
            }
            for c in certificates
        ]
    }


def erase(user: User) -> None:
    """The holder's name leaves their certificates (see the module's docstring); a
    certificate's reason texts that name the person are scrubbed."""
    db.session.execute(
        update(Certificate)
        .where(Certificate.learner_id == user.id)
        .values(holder_name=ERASED_HOLDER, pdf=None, pdf_sha256=None),
        execution_options={"synchronize_session": False},
    )
    scrub_columns(Certificate, ["revoke_reason", "issued_by_name"], Person.of(user))


def holder_erased(certificate: Certificate) -> bool:
    """Whether the holder had their data deleted: the verify page says so instead of a name."""
    return certificate.holder_name == ERASED_HOLDER
