"""The on-site training feature's part of standard 10."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select, update

from app.core.accounts.models import DELETED_NAME, User
from app.core.extensions import db
from visits.models import Signup


def export(user: User) -> dict[str, Any]:
    signups = db.session.execute(select(Signup).where(Signup.email == user.email)).scalars()
    return {
        "onsite_signups": [
            {
                "request_id": s.request_id,
                "name": s.name,
                "department": s.department,
                "signed_up_at": s.created_at.isoformat(),
            }
            for s in signups
        ]
    }


def erase(user: User) -> None:
    """Sign-ups keep their place in the head count, without name, address or department."""
    db.session.execute(
        update(Signup)
        .where(Signup.email == user.email)
        .values(
            name=DELETED_NAME,
            email=f"deleted-{secrets.token_hex(6)}@deleted.invalid",
            department="",
        )
    )
