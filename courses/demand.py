"""Practical courses on demand (standard 5): "notify me" sign-ups, what staff make of them,
and the mail that tells people a course they asked for has been announced.

A sign-up (`CourseInterest`) is double opt-in, like the newsletter: the address gets a
confirmation link first and nothing else until it is confirmed. Confirmed interests are the
demand staff read on the demand page (counted by topic, region and audience), where a
topic becomes a new course "opened on demand".

When a course is announced (`courses.announcements.announce`, the path of `announce-due`
and of staff publishing an announcement), `notify_matching` mails every confirmed interest
that matches it, once: the pair (interest, course) is unique and inserted with ON CONFLICT
DO NOTHING, so racing announce runs cannot mail anyone twice, and the mail carries a dedupe
key per course and address besides. An interest stays active after a mail: the person may
want the next course on the topic too (a course can be full or on the wrong date), and
every mail has the link that withdraws the notice.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from app.core import audit, outbox
from app.core.accounts.models import User
from app.core.errors import DomainError
from app.core.extensions import db, insert_ignoring_conflicts
from app.core.links import external_url
from app.core.timeutil import local_today, local_year_bounds, utcnow
from app.core.vocabulary import Region
from courses import notifications
from courses.models import (
    Audience,
    Course,
    CourseFormat,
    CourseInterest,
    CourseStatus,
    InterestNotification,
    SizeFocus,
    Topic,
)

#: Rows of the demand page's breakdown, notes shown there: the page stays bounded.
SUMMARY_LIMIT = 200
NOTES_LIMIT = 60


class DemandError(DomainError):
    """A refused notify-me operation, with a message for the person."""


def wish_key(topic: Topic, region: Region | None, audience: Audience | None) -> str:
    """One interest per address and wish; "*" stands for any region or audience."""
    return f"{topic.value}:{region.value if region else '*'}:{audience.value if audience else '*'}"


# --- Signing up --------------------------------------------------------------------------


def register_interest(
    email: str,
    *,
    topic: Topic,
    region: Region | None = None,
    audience: Audience | None = None,
    note: str | None = None,
    course: Course | None = None,
    user: User | None = None,
) -> CourseInterest:
    """Start a double opt-in: the address gets a confirmation link, nothing else until then.

    Signing up again for the same wish reuses the row: a confirmed one is left as it is
    (the page says the same either way, so it reveals nobody's sign-ups); a pending or
    withdrawn one takes the new note and gets a fresh link."""
    email = email.strip().lower()
    key = wish_key(topic, region, audience)
    interest = db.session.execute(
        select(CourseInterest).where(CourseInterest.email == email, CourseInterest.wish_key == key)
    ).scalar_one_or_none()
    if interest is not None and interest.is_active:
        return interest
    if interest is None:
        interest = CourseInterest(
            email=email, topic=topic, region=region, audience=audience, wish_key=key
        )
        db.session.add(interest)
    interest.token = secrets.token_urlsafe(32)
    interest.confirmed_at = None
    interest.withdrawn_at = None
    interest.note = (note or "").strip() or None
    interest.course_id = course.id if course is not None else None
    if user is not None and user.email.strip().lower() == email:
        interest.user_id = user.id
    db.session.flush()
    outbox.queue(
        email,
        _("Please confirm your course notice"),
        "demand_confirm",
        context={
            **_wish_context(interest),
            "confirm_url": external_url("courses.confirm_interest", token=interest.token),
        },
        dedupe_key=f"demand:confirm:{interest.id}:{local_today().isoformat()}",
        unsubscribe_url=external_url("courses.withdraw_interest", token=interest.token),
    )
    return interest


def _wish_context(interest: CourseInterest) -> dict[str, str]:
    return {
        "topic": interest.topic.label,
        "region": interest.region.label if interest.region else _("Any region"),
        "audience": interest.audience.label if interest.audience else _("Any audience"),
        "unsubscribe_note": _("You receive this mail because you asked to be told of new courses."),
    }


def find_interest(token: str) -> CourseInterest | None:
    return db.session.execute(
        select(CourseInterest).where(CourseInterest.token == token)
    ).scalar_one_or_none()


def confirm_interest(token: str) -> CourseInterest:
    interest = find_interest(token)
    if interest is None or interest.withdrawn_at is not None:
        raise DemandError(_("This confirmation link is not valid."))
    if interest.confirmed_at is None:
        interest.confirmed_at = utcnow()
    return interest


def withdraw_interest(token: str) -> CourseInterest:
    """Withdraw the notice, and every other notice of the same address: the link came by
    mail to that address, and a withdrawal link must stop the mail, whichever wish sent it."""
    interest = find_interest(token)
    if interest is None:
        raise DemandError(_("This link is not valid."))
    now = utcnow()
    db.session.execute(
        update(CourseInterest)
        .where(CourseInterest.email == interest.email, CourseInterest.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(interest)
    return interest


# --- Telling people of a course -------------------------------------------------------------


def matching_interests(course: Course) -> list[CourseInterest]:
    """Confirmed interests a course answers: the same topic; the region asked for, or any
    (an online course is in every region); the audience asked for, or any (a course for
    everyone suits every audience). The course a sign-up came from is not offered back."""
    if course.topic is None or course.private or course.status != CourseStatus.PUBLISHED:
        return []
    query = select(CourseInterest).where(
        CourseInterest.is_active,
        CourseInterest.topic == course.topic,
        or_(CourseInterest.course_id.is_(None), CourseInterest.course_id != course.id),
    )
    if course.format != CourseFormat.ONLINE and course.region != Region.ONLINE:
        query = query.where(
            or_(CourseInterest.region.is_(None), CourseInterest.region == course.region)
        )
    if course.audience != Audience.ALL:
        query = query.where(
            or_(CourseInterest.audience.is_(None), CourseInterest.audience == course.audience)
        )
    return list(db.session.execute(query.order_by(CourseInterest.id)).scalars())


def notify_matching(course: Course) -> int:
    """Mail everyone whose interest the course matches, once per course and address, in
    the announcing transaction; returns the number of mails queued."""
    by_address: dict[str, list[CourseInterest]] = {}
    for interest in matching_interests(course):
        by_address.setdefault(interest.email, []).append(interest)
    if not by_address:
        return 0
    context = {"topic": course.topic.label, **notifications.course_context(course)}
    context["unsubscribe_note"] = _(
        "You receive this mail because you asked to be told of new courses."
    )
    queued = 0
    table = InterestNotification.__table__
    for address, interests in by_address.items():
        new = [
            interest
            for interest in interests
            if db.session.execute(
                insert_ignoring_conflicts(table, on=["interest_id", "course_id"])
                .values(interest_id=interest.id, course_id=course.id, notified_at=utcnow())
                .returning(table.c.id)
            ).scalar_one_or_none()
            is not None
        ]
        if not new:
            continue  # told already, by this run's twin or an earlier one
        digest = hashlib.sha256(address.encode()).hexdigest()[:40]
        queued += outbox.queue(
            address,
            _("A course you asked for: %(title)s", title=course.title),
            "demand_course",
            context=context,
            dedupe_key=f"demand:course:{course.id}:to:{digest}",
            unsubscribe_url=external_url("courses.withdraw_interest", token=new[0].token),
        )
    return queued


# --- What staff read -------------------------------------------------------------------------


@dataclass(frozen=True)
class DemandRow:
    topic: Topic
    region: Region | None
    audience: Audience | None
    interests: int
    latest: datetime


@dataclass(frozen=True)
class TopicDemand:
    topic: Topic
    interests: int
    #: The breakdown's biggest row of the topic: what "create a course" proposes.
    top: DemandRow


@dataclass(frozen=True)
class DemandNote:
    topic: Topic
    region: Region | None
    audience: Audience | None
    note: str
    confirmed_at: datetime


def demand_rows(limit: int = SUMMARY_LIMIT) -> list[DemandRow]:
    """Confirmed interests counted by topic, region and audience, the biggest first."""
    count = func.count(CourseInterest.id)
    rows = db.session.execute(
        select(
            CourseInterest.topic,
            CourseInterest.region,
            CourseInterest.audience,
            count,
            func.max(CourseInterest.confirmed_at),
        )
        .where(CourseInterest.is_active)
        .group_by(CourseInterest.topic, CourseInterest.region, CourseInterest.audience)
        .order_by(count.desc(), CourseInterest.topic, CourseInterest.region)
        .limit(limit)
    ).all()
    return [DemandRow(*row) for row in rows]


def topic_demand(rows: list[DemandRow] | None = None) -> list[TopicDemand]:
    """Per topic: its confirmed interests and its biggest wish."""
    count = func.count(CourseInterest.id)
    totals = db.session.execute(
        select(CourseInterest.topic, count)
        .where(CourseInterest.is_active)
        .group_by(CourseInterest.topic)
        .order_by(count.desc(), CourseInterest.topic)
    ).all()
    rows = demand_rows() if rows is None else rows
    top: dict[Topic, DemandRow] = {}
    for row in rows:  # biggest first
        top.setdefault(row.topic, row)
    return [
        TopicDemand(topic, interests, top.get(topic) or DemandRow(topic, None, None, 0, utcnow()))
        for topic, interests in totals
    ]


def demand_notes(limit: int = NOTES_LIMIT) -> list[DemandNote]:
    """The newest notes of confirmed interests, without the addresses."""
    rows = db.session.execute(
        select(
            CourseInterest.topic,
            CourseInterest.region,
            CourseInterest.audience,
            CourseInterest.note,
            CourseInterest.confirmed_at,
        )
        .where(CourseInterest.is_active, CourseInterest.note.is_not(None))
        .order_by(CourseInterest.confirmed_at.desc(), CourseInterest.id.desc())
        .limit(limit)
    ).all()
    return [DemandNote(*row) for row in rows]


def opened_on_demand(limit: int = 20) -> list[Course]:
    return list(
        db.session.execute(
            select(Course)
            .where(Course.opened_on_demand_at.is_not(None))
            .order_by(Course.opened_on_demand_at.desc())
            .limit(limit)
        ).scalars()
    )


def course_prefill(
    topic: Topic, region: Region | None, audience: Audience | None
) -> dict[str, object]:
    """What the course form starts with when staff open a course from a demand row."""
    online = region == Region.ONLINE
    return {
        "title": topic.label,
        "summary": _("A course opened for the people who asked for it."),
        "topic": topic.value,
        "region": (region or Region.SEOUL).value,
        "audience": (audience or Audience.ALL).value,
        "size_focus": SizeFocus.ALL.value,
        "format": (CourseFormat.ONLINE if online else CourseFormat.CLASSROOM).value,
    }


def mark_opened_on_demand(course: Course, *, by: User) -> None:
    """Staff created the course from the demand page: it counts for standard 5."""
    course.opened_on_demand_at = utcnow()
    audit.record(
        "course.open_on_demand",
        course,
        by=by,
        topic=course.topic.value if course.topic else None,
        region=course.region.value,
        audience=course.audience.value,
    )
    db.session.flush()


# --- Standard 5 in figures -------------------------------------------------------------------


@dataclass(frozen=True)
class DemandStandard:
    year: int
    interests: int  # confirmed notify-me sign-ups made in the year
    topics_with_demand: int  # distinct topics among them
    courses_opened_on_demand: int  # the year's published courses marked opened on demand
    people_notified: int  # distinct confirmed interests mailed about a course of the year


def demand_standard(year: int) -> DemandStandard:
    """The year's figures. A sign-up counts in the (local) year it was confirmed, also when
    it was withdrawn later: it was demand all the same."""
    start, end = local_year_bounds(year)
    in_year = (CourseInterest.confirmed_at >= start) & (CourseInterest.confirmed_at < end)
    interests, topics = db.session.execute(
        select(func.count(CourseInterest.id), func.count(CourseInterest.topic.distinct())).where(
            in_year
        )
    ).one()
    opened = db.session.execute(
        select(func.count(Course.id)).where(
            Course.year == year,
            Course.status == CourseStatus.PUBLISHED,
            Course.opened_on_demand_at.is_not(None),
        )
    ).scalar_one()
    notified = db.session.execute(
        select(func.count(InterestNotification.interest_id.distinct()))
        .join(Course, Course.id == InterestNotification.course_id)
        .join(CourseInterest, CourseInterest.id == InterestNotification.interest_id)
        .where(Course.year == year, CourseInterest.confirmed_at.is_not(None))
    ).scalar_one()
    return DemandStandard(
        year=year,
        interests=interests,
        topics_with_demand=topics,
        courses_opened_on_demand=opened,
        people_notified=notified,
    )
