"""The customers' voice desk (standard 12): filing, the SLA clock, replies, decisions and
corrective actions, the staff queue and the year's figures.

Every staff change writes its audit entry and queues its mail to the filer, naming the
staff member who acted (standard 11), in the same transaction. The filer's follow link
is built from BASE_URL.
"""

from __future__ import annotations

import secrets
import statistics
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.orm import selectinload

from app.core import audit, mail, outbox
from app.core.accounts.models import Role, User
from app.core.erasure import ERASED_ADDRESS
from app.core.errors import DomainError
from app.core.extensions import db
from app.core.formatting import local_datetime
from app.core.links import external_url
from app.core.paging import NumberedPage
from app.core.timeutil import (
    add_working_time,
    end_of_local_day,
    is_working_day,
    local_year_bounds,
    next_working_day,
    to_local,
    utcnow,
)
from courses.models import Course, CourseStatus
from voice.models import (
    OPEN_STATES,
    ClockState,
    ProposalOutcome,
    VoiceItem,
    VoiceKind,
    VoiceMessage,
    VoiceState,
)

#: Filed on a working day before this local time: answered the same working day.
CUTOFF = time(17, 0)
#: Whatever the day, the first reply is due within this much working time (weekend and
#: holiday hours do not run).
FIRST_REPLY_WITHIN = timedelta(hours=24)
#: An unanswered item this close to its due time shows as "due soon".
DUE_SOON = timedelta(hours=3)
#: Items per page of the staff queue.
QUEUE_PAGE_SIZE = 30
#: Courses offered in the filing form's select: this far back and ahead, at most this many.
COURSE_CHOICE_DAYS_BACK, COURSE_CHOICE_DAYS_AHEAD, COURSE_CHOICE_LIMIT = 365, 120, 80
#: The retention rule's default: closed items keep their personal data this long.
RETENTION_DAYS = 3 * 365


class VoiceError(DomainError):
    """A refused operation of the voice desk, with a message for the person."""


# --- The SLA clock ---------------------------------------------------------------------------


def response_due_at(filed_at: datetime) -> datetime:
    """When the first reply to an item filed at `filed_at` is due (UTC).

    The charter: "answered the same working day, or within 24 hours where an answer takes
    longer". The stricter of two rules, both in the institute's time zone:

    - the working-day rule: filed on a working day before 17:00, due by the end of that
      day; filed later, or on a weekend or holiday, due by the end of the next working day;
    - the 24-hour rule: due 24 hours after filing, counted on working days only (a
      weekend's hours do not run, or every Friday evening would be due on Saturday).

    So Monday 09:00 is due Monday 24:00; Monday 17:30 is due Tuesday 17:30; Friday 18:00 is
    due Monday 18:00; Saturday 10:00 is due Monday 24:00. An interim reply ("the full
    answer takes longer") meets it as well as the answer does.
    """
    local = to_local(filed_at)
    day = local.date()
    if is_working_day(day) and local.time() < CUTOFF:
        working_day_rule = end_of_local_day(day)
    else:
        working_day_rule = end_of_local_day(next_working_day(day))
    return min(working_day_rule, add_working_time(filed_at, FIRST_REPLY_WITHIN))


@dataclass(frozen=True)
class Clock:
    """An item's SLA clock as a person reads it: its state and how far from the due time."""

    state: ClockState
    #: For an unanswered item, the time left (negative: overdue); for an answered one, the
    #: time from filing to the first reply.
    delta: timedelta

    @property
    def label(self) -> str:
        if self.state in (ClockState.MET, ClockState.LATE):
            return self.state.label
        span = _span(abs(self.delta))
        if self.state == ClockState.OVERDUE:
            return _("Overdue by %(span)s", span=span)
        return _("Due in %(span)s", span=span)

    @property
    def css(self) -> str:
        return {
            ClockState.ON_TIME: "state-met",
            ClockState.MET: "state-met",
            ClockState.DUE_SOON: "state-due",
        }.get(self.state, "state-missed")


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return _("%(n)d min", n=max(minutes, 1))
    if minutes < 48 * 60:
        return _("%(n)d h", n=minutes // 60)
    return _("%(n)d days", n=minutes // (24 * 60))


def clock(item: VoiceItem, *, now: datetime | None = None) -> Clock:
    """The one rule for an item's clock; `clock_condition` is its SQL twin."""
    if item.first_reply_at is not None:
        state = ClockState.MET if item.first_reply_at <= item.due_at else ClockState.LATE
        return Clock(state, item.first_reply_at - item.filed_at)
    left = item.due_at - (now or utcnow())
    if left < timedelta(0):
        return Clock(ClockState.OVERDUE, left)
    return Clock(ClockState.DUE_SOON if left <= DUE_SOON else ClockState.ON_TIME, left)


def clock_condition(state: ClockState, now: datetime) -> ColumnElement[bool]:
    """Items whose clock is in `state` now, as SQL (the same rule as `clock`)."""
    replied, unanswered = VoiceItem.first_reply_at.is_not(None), VoiceItem.first_reply_at.is_(None)
    return {
        ClockState.MET: and_(replied, VoiceItem.first_reply_at <= VoiceItem.due_at),
        ClockState.LATE: and_(replied, VoiceItem.first_reply_at > VoiceItem.due_at),
        ClockState.OVERDUE: and_(unanswered, VoiceItem.due_at < now),
        ClockState.DUE_SOON: and_(
            unanswered, VoiceItem.due_at >= now, VoiceItem.due_at <= now + DUE_SOON
        ),
        ClockState.ON_TIME: and_(unanswered, VoiceItem.due_at > now + DUE_SOON),
    }[state]


# --- Filing and following (the public side) -----------------------------------------------


@dataclass
class Filing:
    kind: VoiceKind
    subject: str
    message: str
    name: str
    email: str
    phone: str | None = None
    course_id: int | None = None
    consent: bool = False


def course_choices() -> list[tuple[int, str]]:
    """The courses a filer may name: published, public, of the last year and the months
    ahead; bounded, latest first."""
    now = utcnow()
    rows = db.session.execute(
        select(Course.id, Course.title, Course.starts_at)
        .where(
            Course.status == CourseStatus.PUBLISHED,
            Course.private.is_(False),
            Course.starts_at >= now - timedelta(days=COURSE_CHOICE_DAYS_BACK),
            Course.starts_at <= now + timedelta(days=COURSE_CHOICE_DAYS_AHEAD),
        )
        .order_by(Course.starts_at.desc(), Course.id)
        .limit(COURSE_CHOICE_LIMIT)
    )
    return [(id_, f"{to_local(starts).date().isoformat()} {title}") for id_, title, starts in rows]


def file_item(filing: Filing, *, user: User | None, now: datetime | None = None) -> VoiceItem:
    """File an item and mail the filer its follow link."""
    if not filing.consent:
        raise VoiceError(
            _("Please agree to the processing of your personal data for the answer."), "consent"
        )
    if filing.course_id is not None and db.session.get(Course, filing.course_id) is None:
        raise VoiceError(_("Choose a course from the list."), "course_id")
    email = filing.email.strip() or (user.email if user is not None else "")
    if not email:
        raise VoiceError(_("Enter your e-mail address: the answer is sent there."), "email")
    now = now or utcnow()
    item = VoiceItem(
        token=secrets.token_urlsafe(24),
        kind=filing.kind,
        state=VoiceState.RECEIVED,
        subject=filing.subject.strip(),
        message=filing.message.strip(),
        name=filing.name.strip(),
        email=email,
        phone=(filing.phone or "").strip() or None,
        user_id=user.id if user is not None else None,
        course_id=filing.course_id,
        consented_at=now,
        filed_at=now,
        due_at=response_due_at(now),
    )
    db.session.add(item)
    db.session.flush()
    outbox.queue(
        item.email,
        _(
            "We have received your %(kind)s: %(subject)s",
            kind=item.kind.label,
            subject=item.subject,
        ),
        "voice_received",
        context={
            "kind": item.kind.label,
            "item_subject": item.subject,
            "filed_at": local_datetime(item.filed_at),
            "due_at": local_datetime(item.due_at),
            "url": follow_url(item),
        },
        to_name=item.name,
    )
    return item


def follow_url(item: VoiceItem) -> str:
    return external_url("voice.follow", token=item.token)


def by_token(token: str) -> VoiceItem | None:
    return db.session.execute(
        select(VoiceItem).where(VoiceItem.token == token)
    ).scalar_one_or_none()


def thread(item: VoiceItem) -> list[VoiceMessage]:
    return list(
        db.session.execute(
            select(VoiceMessage)
            .where(VoiceMessage.item_id == item.id)
            .order_by(VoiceMessage.created_at, VoiceMessage.id)
        ).scalars()
    )


def add_follow_up(
    item: VoiceItem, body: str, *, user: User | None, now: datetime | None = None
) -> VoiceMessage:
    """The filer writes again on the follow page; an answered item is open work again."""
    if item.state == VoiceState.CLOSED:
        raise VoiceError(_("This item is closed. Please file a new one."))
    now = now or utcnow()
    message = VoiceMessage(
        item_id=item.id,
        from_staff=False,
        author_id=user.id if user is not None and user.id == item.user_id else None,
        body=body.strip(),
        created_at=now,
    )
    db.session.add(message)
    item.last_follow_up_at = now
    if item.state == VoiceState.ANSWERED:
        item.state = VoiceState.IN_PROGRESS
    db.session.flush()
    return message


# --- The staff side ---------------------------------------------------------------------------


def staff_members() -> list[User]:
    return list(
        db.session.execute(
            select(User).where(User.role == Role.STAFF, User.active.is_(True)).order_by(User.name)
        ).scalars()
    )


def _check_staff(user: User) -> None:
    if user.role != Role.STAFF or not user.active:
        raise VoiceError(_("Choose a member of the education staff."), "assignee_id")


def _check_open(item: VoiceItem) -> None:
    if item.state == VoiceState.CLOSED:
        raise VoiceError(_("This item is closed."))


def _check_answerable(item: VoiceItem) -> None:
    """A reply or a report goes to the filer's address: not once their data is erased."""
    _check_open(item)
    if item.scrubbed_at is not None:
        raise VoiceError(
            _("The filer's personal data has been erased: the item can only be closed.")
        )


def assign(item: VoiceItem, assignee: User, *, by: User) -> None:
    """Hand the item to a staff member (the one who opens it can take it)."""
    _check_open(item)
    _check_staff(assignee)
    before = item.assignee_id
    item.assignee_id = assignee.id
    db.session.flush()
    audit.record(
        "voice.assign", item, by=by, object_type="voice_item", before=before, to=assignee.id
    )


def reply(
    item: VoiceItem, body: str, *, interim: bool, by: User, now: datetime | None = None
) -> VoiceMessage:
    """Answer the filer by mail, signed with the replier's name and contact. The first
    reply, interim or not, stops the SLA clock."""
    _check_answerable(item)
    body = body.strip()
    if not body:
        raise VoiceError(_("Write the reply."), "body")
    now = now or utcnow()
    message = VoiceMessage(
        item_id=item.id,
        from_staff=True,
        author_id=by.id,
        body=body,
        interim=interim,
        created_at=now,
    )
    db.session.add(message)
    first = item.first_reply_at is None
    if first:
        item.first_reply_at = max(now, item.filed_at)
    item.last_reply_at = now
    if item.assignee_id is None:
        item.assignee_id = by.id
    done = item.kind == VoiceKind.INQUIRY and not interim
    item.state = VoiceState.ANSWERED if done else VoiceState.IN_PROGRESS
    db.session.flush()
    audit.record(
        "voice.reply",
        item,
        by=by,
        object_type="voice_item",
        message_id=message.id,
        interim=interim,
        first=first,
        in_time=item.first_reply_at <= item.due_at,
    )
    contact = mail.staff_contact(by)
    subject = (
        _("Interim reply to your %(kind)s: %(subject)s", kind=item.kind.label, subject=item.subject)
        if interim
        else _("Reply to your %(kind)s: %(subject)s", kind=item.kind.label, subject=item.subject)
    )
    outbox.queue(
        item.email,
        subject,
        "voice_reply",
        context={
            "kind": item.kind.label,
            "item_subject": item.subject,
            "body": body,
            "interim": interim,
            "signature": _signature(contact),
            "url": follow_url(item),
        },
        to_name=item.name,
        responsible=contact,
        auto_generated=False,
    )
    return message


def _signature(contact: mail.Contact) -> str:
    return " · ".join(part for part in (contact.name, contact.email, contact.phone) if part)


def resolve(
    item: VoiceItem,
    text: str,
    *,
    outcome: ProposalOutcome | None = None,
    by: User,
    now: datetime | None = None,
) -> None:
    """Record a proposal's decision or a complaint's corrective action and report it to the
    filer by mail; that closes the item. A report that is the first word to the filer also
    stops the SLA clock."""
    _check_answerable(item)
    text = text.strip()
    if item.kind == VoiceKind.INQUIRY:
        raise VoiceError(_("An inquiry is answered with a reply, not a decision."))
    if item.kind == VoiceKind.PROPOSAL and outcome is None:
        raise VoiceError(_("Choose the result of the review."), "outcome")
    if not text:
        field = "resolution"
        if item.kind == VoiceKind.PROPOSAL:
            raise VoiceError(_("Write the result of the review."), field)
        raise VoiceError(_("Describe the measures taken."), field)
    now = now or utcnow()
    item.outcome = outcome if item.kind == VoiceKind.PROPOSAL else None
    item.resolution = text
    item.resolved_at = item.closed_at = now
    item.resolved_by_id = by.id
    if item.first_reply_at is None:
        item.first_reply_at = max(now, item.filed_at)
    item.last_reply_at = now
    item.assignee_id = item.assignee_id or by.id
    item.state = VoiceState.CLOSED
    db.session.flush()
    audit.record(
        "voice.resolve",
        item,
        by=by,
        object_type="voice_item",
        kind=item.kind.value,
        outcome=outcome.value if item.outcome else None,
    )
    contact = mail.staff_contact(by)
    if item.kind == VoiceKind.PROPOSAL:
        subject = _("The result of the review of your proposal: %(subject)s", subject=item.subject)
    else:
        subject = _("The measures taken on your complaint: %(subject)s", subject=item.subject)
    outbox.queue(
        item.email,
        subject,
        "voice_resolved",
        context={
            "kind": item.kind.label,
            "item_subject": item.subject,
            "proposal": item.kind == VoiceKind.PROPOSAL,
            "outcome": item.outcome.label if item.outcome else None,
            "resolution": text,
            "signature": _signature(contact),
            "url": follow_url(item),
        },
        to_name=item.name,
        responsible=contact,
        auto_generated=False,
    )


def close(item: VoiceItem, *, by: User, now: datetime | None = None) -> None:
    """Close an item that has been answered; an unanswered one cannot leave the clock
    (unless its filer's data was erased: nobody is left to answer)."""
    _check_open(item)
    if item.first_reply_at is None and item.scrubbed_at is None:
        raise VoiceError(_("Reply to the filer before closing the item."))
    item.state = VoiceState.CLOSED
    item.closed_at = now or utcnow()
    db.session.flush()
    audit.record("voice.close", item, by=by, object_type="voice_item")


def get_item(item_id: int) -> VoiceItem | None:
    return db.session.get(VoiceItem, item_id)


# --- The queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    kind: VoiceKind | None = None
    #: None: open items only; or one state.
    state: VoiceState | None = None
    clock: ClockState | None = None


@dataclass(frozen=True)
class QueuePage(NumberedPage):
    items: list[VoiceItem]
    number: int
    size: int
    total: int


def queue_page(
    filters: QueueFilter,
    *,
    number: int = 1,
    size: int = QUEUE_PAGE_SIZE,
    now: datetime | None = None,
) -> QueuePage:
    """A bounded page of the staff queue: open items first, unanswered before answered,
    each by its due time; closed ones (when asked for) latest first."""
    now = now or utcnow()
    query = select(VoiceItem)
    if filters.kind is not None:
        query = query.where(VoiceItem.kind == filters.kind)
    if filters.state is not None:
        query = query.where(VoiceItem.state == filters.state)
    else:
        query = query.where(VoiceItem.state.in_(OPEN_STATES))
    if filters.clock is not None:
        query = query.where(clock_condition(filters.clock, now))
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    number = min(max(number, 1), max(1, -(-total // size)))
    closed = VoiceItem.state == VoiceState.CLOSED
    items = db.session.execute(
        query.order_by(
            case((closed, 1), else_=0),
            case((VoiceItem.first_reply_at.is_(None), 0), else_=1),
            case((closed, None), else_=VoiceItem.due_at),
            VoiceItem.closed_at.desc(),
            VoiceItem.id,
        )
        .offset((number - 1) * size)
        .limit(size)
    ).scalars()
    return QueuePage(list(items), number, size, total)


@dataclass(frozen=True)
class VoiceCounts:
    """For the staff dashboard."""

    open: int
    overdue: int


def open_counts(*, now: datetime | None = None) -> VoiceCounts:
    """Open items, and the open items still without a reply past their due time."""
    now = now or utcnow()
    is_open = VoiceItem.state.in_(OPEN_STATES)
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(case((clock_condition(ClockState.OVERDUE, now), 1), else_=0)), 0
            ),
        ).where(is_open)
    ).one()
    return VoiceCounts(open=row[0], overdue=int(row[1]))


# --- The standard's figures ----------------------------------------------------------------


@dataclass(frozen=True)
class VoiceStandard:
    year: int
    #: Every item filed in the year, of any kind (kinds are counted separately below).
    inquiries: int
    #: Items of every kind whose first reply met `response_due_at`.
    answered_in_time: int
    answered_late: int
    #: No reply yet and past due (as of now); an item closed unanswered, which only the
    #: erasure of its filer's data allows, still counts here: it was not answered in time.
    open_overdue: int
    #: No reply yet, not yet due.
    open_on_time: int
    #: Filing to first reply, over the replied items of the year.
    median_response_hours: float | None
    proposals: int
    #: Decision recorded and mailed.
    proposals_reported: int
    complaints: int
    #: Corrective action recorded and mailed.
    complaints_reported: int

    @property
    def in_time_rate(self) -> float | None:
        """Percent of the replied and overdue items answered in time."""
        counted = self.answered_in_time + self.answered_late + self.open_overdue
        return round(100 * self.answered_in_time / counted, 1) if counted else None


def voice_standard(year: int, *, now: datetime | None = None) -> VoiceStandard:
    """The year's figures (items filed in the year, in the institute's time zone), counted
    by the database in one aggregate query; the median from the replied items' two times."""
    now = now or utcnow()
    start, end = local_year_bounds(year)
    of_year = and_(VoiceItem.filed_at >= start, VoiceItem.filed_at < end)

    def count(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)

    proposal, complaint = (
        VoiceItem.kind == VoiceKind.PROPOSAL,
        VoiceItem.kind == VoiceKind.COMPLAINT,
    )
    reported = VoiceItem.resolved_at.is_not(None)
    row = db.session.execute(
        select(
            func.count(),
            count(clock_condition(ClockState.MET, now)),
            count(clock_condition(ClockState.LATE, now)),
            count(clock_condition(ClockState.OVERDUE, now)),
            count(VoiceItem.first_reply_at.is_(None), VoiceItem.due_at >= now),
            count(proposal),
            count(proposal, reported),
            count(complaint),
            count(complaint, reported),
        ).where(of_year)
    ).one()
    replied = db.session.execute(
        select(VoiceItem.filed_at, VoiceItem.first_reply_at).where(
            of_year, VoiceItem.first_reply_at.is_not(None)
        )
    ).all()
    hours = [(first - filed).total_seconds() / 3600 for filed, first in replied]
    numbers = [int(value) for value in row]
    return VoiceStandard(
        year,
        *numbers[:5],
        round(statistics.median(hours), 1) if hours else None,
        *numbers[5:],
    )


# --- Retention and erasure ------------------------------------------------------------------

#: What replaces a scrubbed item's texts and the filer's name.
SCRUBBED = "(삭제됨)"


def scrub_items(condition: ColumnElement[bool], *, now: datetime | None = None) -> int:
    """Remove the personal data of the matching items: the filer's name, address and phone,
    the texts of the item and of its thread. Kind, state and times stay (the figures)."""
    now = now or utcnow()
    ids = select(VoiceItem.id).where(condition).scalar_subquery()
    db.session.execute(
        update(VoiceMessage)
        .where(VoiceMessage.item_id.in_(ids))
        .values(body=SCRUBBED)
        .execution_options(synchronize_session=False)
    )
    changed = db.session.execute(
        update(VoiceItem)
        .where(condition)
        .values(
            subject=SCRUBBED,
            message=SCRUBBED,
            name=SCRUBBED,
            email=ERASED_ADDRESS,
            phone=None,
            resolution=case((VoiceItem.resolution.is_(None), None), else_=SCRUBBED),
            scrubbed_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return changed


def purge(*, older_than_days: int = RETENTION_DAYS, now: datetime | None = None) -> int:
    """The retention rule: closed items older than `older_than_days` (by their closing)
    lose their personal data. Idempotent: an item is scrubbed once."""
    now = now or utcnow()
    cutoff = now - timedelta(days=older_than_days)
    return scrub_items(
        and_(
            VoiceItem.state == VoiceState.CLOSED,
            VoiceItem.closed_at < cutoff,
            VoiceItem.scrubbed_at.is_(None),
        ),
        now=now,
    )


def items_of(user: User) -> ColumnElement[bool]:
    """The items a person filed: linked to their account, or filed with their address."""
    return or_(
        VoiceItem.user_id == user.id, func.lower(VoiceItem.email) == user.email.strip().lower()
    )


def items_with_thread(condition: ColumnElement[bool]) -> list[VoiceItem]:
    return list(
        db.session.execute(
            select(VoiceItem)
            .where(condition)
            .options(selectinload(VoiceItem.messages))
            .order_by(VoiceItem.filed_at, VoiceItem.id)
        ).scalars()
    )
