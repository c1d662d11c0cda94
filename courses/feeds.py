"""Calendar feeds that stay live in people's calendar apps: the upcoming courses for
everyone, and a learner's own courses behind a secret link; and the one way every feed
answers, with validators so that a poll while nothing changed is an empty 304.

The personal link's token is the only proof of who the feed is for, so it is long
(256 bits), random, shown only to its owner, and revoked by deleting the row: the old
link is a 404 from then on, and creating the feed again gives a new link.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import Response
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.core import audit, caching
from app.core.accounts.models import Role, User
from app.core.downloads import file_response
from app.core.extensions import db
from app.core.links import external_url
from app.core.timeutil import utcnow
from courses.models import CalendarFeedToken, Course, CourseStatus, Enrollment, EnrollmentStatus

ICS_TYPE = "text/calendar; charset=utf-8"
#: Random bytes in a personal feed token; URL-safe base64 makes 43 characters of them.
TOKEN_BYTES = 32
#: The column's length: no token found in a URL can be longer.
MAX_TOKEN_LENGTH = 64


def ics_response(
    data: bytes, filename: str, *, last_modified: datetime | None, private: bool = False
) -> Response:
    """A feed as `text/calendar`, shown inline, cacheable and conditional."""
    response = file_response(data, filename, ICS_TYPE, inline=True)
    return caching.conditional(response, last_modified=last_modified, private=private)


# --- The upcoming courses --------------------------------------------------------------------


def upcoming_courses(now: datetime | None = None) -> list[Course]:
    """Every public course (published, not a company's own) that has not ended yet."""
    return list(
        db.session.execute(
            select(Course)
            .where(Course.is_public, Course.ends_at > (now or utcnow()))
            .order_by(Course.starts_at, Course.id)
        ).scalars()
    )


# --- A learner's own feed ---------------------------------------------------------------------


def may_have_feed(user: User) -> bool:
    return user.role == Role.LEARNER and user.active


def feed_token_of(user: User) -> CalendarFeedToken | None:
    return db.session.execute(
        select(CalendarFeedToken).where(CalendarFeedToken.user_id == user.id)
    ).scalar_one_or_none()


def create_feed_token(user: User) -> CalendarFeedToken:
    """A new secret link for the learner's feed; one they had before stops working."""
    feed = CalendarFeedToken(user_id=user.id, token=secrets.token_urlsafe(TOKEN_BYTES))
    try:
        with db.session.begin_nested():
            db.session.execute(
                delete(CalendarFeedToken).where(CalendarFeedToken.user_id == user.id)
            )
            db.session.add(feed)
            db.session.flush()
    except IntegrityError:
        # A second click that raced this one made the link (one per learner): keep it.
        existing = feed_token_of(user)
        if existing is None:
            raise
        return existing
    audit.record("calendar_feed.create", feed, by=user)
    return feed


def revoke_feed_token(user: User) -> bool:
    """Delete the learner's link; False when they had none."""
    feed = feed_token_of(user)
    if feed is None:
        return False
    audit.record("calendar_feed.revoke", feed, by=user)
    db.session.delete(feed)
    db.session.flush()
    return True


def feed_owner(token: str) -> User | None:
    """Whose feed a token opens, or None (unknown, revoked, or an account closed since)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    user = db.session.execute(
        select(User)
        .join(CalendarFeedToken, CalendarFeedToken.user_id == User.id)
        .where(CalendarFeedToken.token == token)
    ).scalar_one_or_none()
    return user if user is not None and may_have_feed(user) else None


def personal_courses(user: User) -> tuple[list[Course], datetime | None]:
    """The courses the learner holds a seat in, cancelled courses included, and the last
    change among them and the learner's enrolments (a seat given up leaves the feed)."""
    rows = db.session.execute(
        select(Enrollment)
        .join(Enrollment.course)
        .where(
            Enrollment.learner_id == user.id,
            Enrollment.status == EnrollmentStatus.ENROLLED,
            Course.status.in_([CourseStatus.PUBLISHED, CourseStatus.CANCELLED]),
        )
        .options(joinedload(Enrollment.course))
        .order_by(Course.starts_at, Course.id)
    ).scalars()
    enrolments = list(rows)
    latest_enrolment = db.session.execute(
        select(Enrollment.updated_at)
        .where(Enrollment.learner_id == user.id)
        .order_by(Enrollment.updated_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    courses = [enrollment.course for enrollment in enrolments]
    changed = caching.latest([latest_enrolment, *(course.updated_at for course in courses)])
    return courses, changed


def feed_links(feed: CalendarFeedToken) -> tuple[str, str]:
    """The feed's https (or http) address, and the same as `webcal://` for calendar apps."""
    url = external_url("courses.personal_feed", token=feed.token)
    return url, webcal(url)


def webcal(url: str) -> str:
    """The `webcal://` form of an absolute http(s) URL: the same address, which a click
    opens in the calendar app's subscription dialog instead of downloading it."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme not in ("http", "https"):
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    return f"webcal://{rest}"
