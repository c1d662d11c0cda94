"""The certificates feature's part of standard 10.

Erasure leaves issued certificates as they are: the institute must keep what it
certified, and a verifier must still get an answer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.accounts.models import User
from app.core.extensions import db
from certificates.models import Certificate


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
    """Nothing to delete: see the module's docstring."""
