"""The API's pages: how many courses at once, and the opaque cursor of the next page.

A rule of the edge as much as of the service (the query form checks a cursor with it),
so it lives apart from both, like `courses.schedule`.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

API_DEFAULT_LIMIT = 100
API_MAX_LIMIT = 500


def encode_cursor(position: tuple[datetime, int]) -> str:
    """The opaque `cursor` of the API's next page."""
    starts_at, course_id = position
    raw = f"{starts_at.astimezone(UTC).isoformat()}|{course_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    """The position in a cursor, or None when it is not one this API gave out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, course_id = raw.partition("|")
        starts_at = datetime.fromisoformat(moment)
        number = int(course_id)
    except (ValueError, UnicodeError):
        return None
    if starts_at.tzinfo is None or not 0 < number < 2**31:
        return None
    return starts_at, number
