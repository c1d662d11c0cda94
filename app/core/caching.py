"""Conditional GET for feeds and documents: ETag, Last-Modified, 304 and Cache-Control.

Calendar apps poll a subscribed feed every few hours and feed readers poll the Atom
feed; with a validator they send it back (`If-None-Match`, `If-Modified-Since`) and get
an empty 304 while nothing changed. The ETag is a hash of the body, so it changes with
anything the body shows (a course, a translation, the template); Last-Modified comes
from the data the body was made of (the newest `updated_at`), for clients that only
send `If-Modified-Since`. When a request sends both, the ETag decides (RFC 9110 13.2.2),
which also covers what a timestamp cannot see, such as a course leaving a feed.

The body must be the same for the same data: no "generated now" timestamp in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask import Response, request

from app.core.timeutil import utcnow

#: How long a client or proxy may use a feed without asking again.
FEED_MAX_AGE = 3600


def latest(moments: Iterable[datetime | None]) -> datetime | None:
    """The newest of the moments that are known, or None."""
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def conditional(
    response: Response,
    *,
    last_modified: datetime | None,
    max_age: int = FEED_MAX_AGE,
    private: bool = False,
) -> Response:
    """Give `response` an ETag of its body, a Last-Modified and a Cache-Control, and turn
    it into a 304 when the request's validators still match.

    `private` keeps shared caches (proxies) from storing it: for a personal feed, or for
    a page whose content depends on who asks (staff see drafts). Every response varies
    by the cookie, which carries both the signed-in person and the chosen language.
    """
    response.add_etag()
    if last_modified is not None:
        # Never later than the Date header (RFC 9110 8.8.2.1), whatever a clock said.
        response.last_modified = min(last_modified, utcnow())
    response.cache_control.max_age = max_age
    if private:
        response.cache_control.private = True
    else:
        response.cache_control.public = True
    response.vary.add("Cookie")
    response.make_conditional(request)
    # make_conditional adds a Date header; the server (werkzeug, gunicorn) always writes
    # its own, and two Date headers in one response are invalid (RFC 9110 5.3).
    del response.headers["Date"]
    return response
