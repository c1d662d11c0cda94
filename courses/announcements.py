"""Course announcements a week ahead (standard 2), the newsletter and its subscribers.

`announce_due` is what cron runs. Racing runs are safe: each course has at most one
announcement (unique course_id, inserted with ON CONFLICT DO NOTHING), it is published by
a conditional UPDATE that only one run can win, and only the winner queues the newsletter,
whose mails carry a dedupe key besides.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import joinedload

from app.core import audit, outbox
from app.core.accounts.models import User
from app.core.errors import DomainError
from app.core.extensions import db, insert_ignoring_conflicts
from app.core.formatting import hours as format_hours
from app.core.formatting import local_datetime, won
from app.core.links import external_url
from app.core.timeutil import local_today, to_local, utcnow
from courses import demand, notifications
from courses.models import (
    Announcement,
    Course,
    Subscriber,
    course_instructors,
)

#: The charter's standard 2: announced at least this many days before the start.
STANDARD_DAYS = 7


class AnnouncementError(DomainError):
    """A refused operation in courses, with a message for the person."""


def lead_days() -> int:
    return int(current_app.config["ANNOUNCE_DAYS_BEFORE"])


def announcement_date(course: Course) -> date:
    return to_local(course.starts_at).date() - timedelta(days=lead_days())


def standard_deadline(course: Course) -> datetime:
    return course.starts_at - timedelta(days=STANDARD_DAYS)


# --- Writing -----------------------------------------------------------------------------


def generated_text(course: Course) -> tuple[str, str]:
    """Title and body drafted from the course's schedule and content."""
    title = _("[Course announcement] %(title)s", title=course.title)
    instructors = ", ".join(_instructor_names(course.id)) or _("To be announced")
    body = _(
        "%(summary)s\n\n"
        "Dates: %(start)s – %(end)s (%(hours)s hours)\n"
        "Venue: %(venue)s\n"
        "Audience: %(audience)s · %(size)s\n"
        "Instructors: %(instructors)s\n"
        "Fee: %(fee)s · Seats: %(capacity)d\n\n"
        "Content\n%(content)s",
        summary=course.summary,
        start=local_datetime(course.starts_at),
        end=local_datetime(course.ends_at),
        hours=format_hours(course.hours),
        venue=course.venue,
        audience=course.audience.label,
        size=course.size_focus.label,
        instructors=instructors,
        fee=won(course.fee),
        capacity=course.capacity,
        content=course.content,
    )
    return title, body


def _instructor_names(course_id: int) -> list[str]:
    return list(
        db.session.execute(
            select(User.name)
            .join(course_instructors, course_instructors.c.user_id == User.id)
            .where(course_instructors.c.course_id == course_id)
            .order_by(User.name)
        ).scalars()
    )


def ensure_announcement(course: Course) -> Announcement:
    """The course's announcement, drafted from the course when it has none yet."""
    title, body = generated_text(course)
    now = utcnow()
    db.session.execute(
        insert_ignoring_conflicts(Announcement.__table__, on=["course_id"]).values(
            course_id=course.id, title=title, body=body, late=False, created_at=now, updated_at=now
        )
    )
    return db.session.execute(
        select(Announcement).where(Announcement.course_id == course.id)
    ).scalar_one()


def edit_announcement(announcement: Announcement, *, title: str, body: str, by: User) -> None:
    if not title.strip() or not body.strip():
        raise AnnouncementError(_("Enter a title and a text."))
    announcement.title = title.strip()
    announcement.body = body.strip()
    announcement.updated_by_id = by.id
    audit.record("announcement.edit", announcement, by=by, course_id=announcement.course_id)


# --- Publishing --------------------------------------------------------------------------


@dataclass
class AnnounceReport:
    published: int = 0
    late: int = 0

    def __str__(self) -> str:
        return f"{self.published} announced ({self.late} late)"


def due_courses(now: datetime | None = None) -> list[Course]:
    """Published, not started, announcement date reached, not announced yet."""
    now = now or utcnow()
    today = to_local(now).date()
    announced = exists().where(
        Announcement.course_id == Course.id, Announcement.published_at.is_not(None)
    )
    candidates = db.session.execute(
        select(Course)
        .where(Course.is_public, Course.starts_at > now, ~announced)
        .order_by(Course.starts_at)
    ).scalars()
    return [course for course in candidates if announcement_date(course) <= today]


def announce_due(
    *,
    now: datetime | None = None,
    courses: list[Course] | None = None,
    unit: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> AnnounceReport:
    """Publish every due announcement and queue its newsletter.

    `unit` wraps each course: the CLI passes `unit_of_work`, so that each course is one
    transaction and a failure stops at that course; inside a request (publishing a
    calendar) the request's own transaction holds them all.
    """
    now = now or utcnow()
    report = AnnounceReport()
    for course in courses if courses is not None else due_courses(now):
        with unit():
            if announce(course, now=now):
                report.published += 1
                report.late += standard_deadline(course) < now
    return report


def announce(course: Course, *, now: datetime | None = None) -> bool:
    """Publish the course's announcement; False when another run already did."""
    now = now or utcnow()
    announcement = ensure_announcement(course)
    won_the_race = (
        db.session.execute(
            update(Announcement)
            .where(Announcement.id == announcement.id, Announcement.published_at.is_(None))
            .values(published_at=now, late=standard_deadline(course) < now)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    if won_the_race:
        db.session.refresh(announcement)
        _queue_newsletter(announcement, course)
        demand.notify_matching(course)  # standard 5: the people who asked for this topic
    return won_the_race


def _queue_newsletter(announcement: Announcement, course: Course) -> None:
    context = {"body": announcement.body, **notifications.course_context(course)}
    for subscriber in active_subscribers():
        outbox.queue(
            subscriber.email,
            announcement.title,
            "newsletter",
            context=context,
            dedupe_key=f"newsletter:announcement:{announcement.id}:subscriber:{subscriber.id}",
            unsubscribe_url=external_url("courses.unsubscribe", token=subscriber.token),
        )


def published_announcements(limit: int | None = None) -> list[Announcement]:
    query = (
        select(Announcement)
        .where(Announcement.published_at.is_not(None))
        .options(joinedload(Announcement.course))
        .order_by(Announcement.published_at.desc(), Announcement.id.desc())
    )
    if limit:
        query = query.limit(limit)
    return list(db.session.execute(query).scalars())


def announcement_for(course_id: int) -> Announcement | None:
    return db.session.execute(
        select(Announcement).where(Announcement.course_id == course_id)
    ).scalar_one_or_none()


# --- Standard 2 on the dashboard ---------------------------------------------------------


@dataclass(frozen=True)
class AnnouncementStandardRow:
    course: Course
    due_on: date
    published_at: datetime | None
    state: str  # met, late, scheduled, overdue, missed

    @property
    def days_ahead(self) -> int | None:
        if self.published_at is None:
            return None
        return (to_local(self.course.starts_at).date() - to_local(self.published_at).date()).days


def announcement_standard(
    year: int, *, now: datetime | None = None
) -> list[AnnouncementStandardRow]:
    now = now or utcnow()
    rows = db.session.execute(
        select(Course, Announcement.published_at)
        .outerjoin(Announcement, Announcement.course_id == Course.id)
        .where(Course.year == year, Course.is_public)
        .order_by(Course.starts_at)
    ).all()
    result = []
    for course, published_at in rows:
        deadline = standard_deadline(course)
        if published_at is not None:
            state = "met" if published_at <= deadline else "late"
        elif now >= course.starts_at:
            state = "missed"
        elif now >= deadline:
            state = "overdue"
        else:
            state = "scheduled"
        result.append(
            AnnouncementStandardRow(course, announcement_date(course), published_at, state)
        )
    return result


@dataclass(frozen=True)
class NamedAnnouncements:
    """Standard 11 for announcements: each names the staff member who last edited it, or
    else the education team's configured contact person."""

    published: int
    by_editor: int


def named_announcements(year: int) -> NamedAnnouncements:
    published, by_editor = db.session.execute(
        select(func.count(), func.count(Announcement.updated_by_id))
        .join(Course, Course.id == Announcement.course_id)
        .where(Course.year == year, Announcement.published_at.is_not(None))
    ).one()
    return NamedAnnouncements(published, by_editor)


def starting_soon_unannounced(*, now: datetime | None = None) -> list[Course]:
    """Courses of any year that start within a week and have no announcement out."""
    now = now or utcnow()
    announced = exists().where(
        Announcement.course_id == Course.id, Announcement.published_at.is_not(None)
    )
    return list(
        db.session.execute(
            select(Course)
            .where(
                Course.is_public,
                Course.starts_at > now,
                Course.starts_at <= now + timedelta(days=STANDARD_DAYS),
                ~announced,
            )
            .order_by(Course.starts_at)
        ).scalars()
    )


# --- Newsletter subscribers ----------------------------------------------------------------


def active_subscribers() -> list[Subscriber]:
    return list(
        db.session.execute(
            select(Subscriber)
            .where(Subscriber.confirmed_at.is_not(None), Subscriber.unsubscribed_at.is_(None))
            .order_by(Subscriber.id)
        ).scalars()
    )


def subscribe(email: str) -> Subscriber:
    """Start a double opt-in: the address gets a confirmation link, nothing else until then."""
    email = email.strip().lower()
    subscriber = db.session.execute(
        select(Subscriber).where(Subscriber.email == email)
    ).scalar_one_or_none()
    if subscriber is not None and subscriber.is_active:
        return subscriber  # say nothing more: the page must not reveal who subscribes
    if subscriber is None:
        subscriber = Subscriber(email=email, token=secrets.token_urlsafe(32))
        db.session.add(subscriber)
    else:
        subscriber.token = secrets.token_urlsafe(32)
        subscriber.confirmed_at = None
        subscriber.unsubscribed_at = None
    db.session.flush()
    outbox.queue(
        email,
        _("Please confirm your newsletter subscription"),
        "newsletter_confirm",
        context={
            "confirm_url": external_url("courses.confirm_subscription", token=subscriber.token)
        },
        dedupe_key=f"newsletter:confirm:{subscriber.id}:{local_today().isoformat()}",
    )
    return subscriber


def find_subscriber(token: str) -> Subscriber | None:
    return db.session.execute(
        select(Subscriber).where(Subscriber.token == token)
    ).scalar_one_or_none()


def confirm(token: str) -> Subscriber:
    subscriber = find_subscriber(token)
    if subscriber is None or subscriber.unsubscribed_at is not None:
        raise AnnouncementError(_("This confirmation link is not valid."))
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = utcnow()
    return subscriber


def unsubscribe(token: str) -> Subscriber:
    subscriber = find_subscriber(token)
    if subscriber is None:
        raise AnnouncementError(_("This unsubscribe link is not valid."))
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = utcnow()
    _withdraw_newsletter_consent(subscriber.email)
    return subscriber


def unsubscribe_address(email: str) -> None:
    """Stop the newsletter for an address (its owner withdrew their consent on /me)."""
    subscriber = db.session.execute(
        select(Subscriber).where(Subscriber.email == email.strip().lower())
    ).scalar_one_or_none()
    if subscriber is not None and subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = utcnow()


def _withdraw_newsletter_consent(email: str) -> None:
    """Unsubscribing from a mail's link withdraws the account's newsletter consent too, so
    that /me and the consent record say what the mailing does."""
    from app.core.accounts import consent
    from app.core.accounts.services import find_user

    user = find_user(email)
    if user is not None:
        consent.withdraw(user, consent.NEWSLETTER)


def is_subscribed(email: str) -> bool:
    subscriber = db.session.execute(
        select(Subscriber).where(Subscriber.email == email.strip().lower())
    ).scalar_one_or_none()
    return subscriber is not None and subscriber.is_active
