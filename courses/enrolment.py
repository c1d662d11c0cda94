"""Enrolment: seats, the waiting list, cancellations and promotions.

Every operation that moves a seat first locks the course row (`lock_course`), so per
course they run one after another on both engines, and the seat itself is taken with a
conditional UPDATE that the database refuses past capacity. A freed seat goes to the head
of the waiting list in the same transaction that freed it, so a seat is only ever free
while nobody waits: a newcomer cannot jump the queue.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.utils import parseaddr

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.core import audit, outbox
from app.core.accounts.models import Role, User
from app.core.errors import DomainError
from app.core.extensions import db, lock_row
from app.core.formatting import local_datetime
from app.core.links import external_url
from app.core.timeutil import local_to_utc, to_local, utcnow
from courses import notifications
from courses.models import (
    Course,
    CourseStatus,
    Enrollment,
    EnrollmentSource,
    EnrollmentStatus,
)


class EnrolmentError(DomainError):
    """A refused enrolment operation, with a message for the person."""


class AlreadyEnrolled(EnrolmentError):
    pass


class EnrolmentClosed(EnrolmentError):
    pass


@dataclass(frozen=True)
class EnrolmentResult:
    enrollment: Enrollment
    waiting_position: int | None  # None when a seat was taken

    @property
    def got_seat(self) -> bool:
        return self.waiting_position is None


# --- Locks and counts --------------------------------------------------------------------


def lock_course(course_id: int) -> None:
    """Serialise seat changes of one course until the transaction ends."""
    lock_row(Course.seats_taken, course_id)


def _take_seat(course_id: int) -> bool:
    """Take one seat if one is free; the WHERE makes overbooking impossible."""
    result = db.session.execute(
        update(Course)
        .where(Course.id == course_id, Course.seats_taken < Course.capacity)
        .values(seats_taken=Course.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _free_seat(course_id: int) -> None:
    db.session.execute(
        update(Course)
        .where(Course.id == course_id, Course.seats_taken > 0)
        .values(seats_taken=Course.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


def _queue_rank() -> int:
    return int(utcnow().timestamp() * 1_000_000)


def waiting_list(course_id: int) -> list[Enrollment]:
    return list(
        db.session.execute(
            select(Enrollment)
            .where(Enrollment.course_id == course_id, Enrollment.status == EnrollmentStatus.WAITING)
            .options(joinedload(Enrollment.learner))
            .order_by(Enrollment.queue_rank, Enrollment.id)
        ).scalars()
    )


def waiting_position(enrollment: Enrollment) -> int | None:
    if enrollment.status != EnrollmentStatus.WAITING:
        return None
    ahead = db.session.execute(
        select(func.count())
        .select_from(Enrollment)
        .where(
            Enrollment.course_id == enrollment.course_id,
            Enrollment.status == EnrollmentStatus.WAITING,
            (Enrollment.queue_rank < enrollment.queue_rank)
            | ((Enrollment.queue_rank == enrollment.queue_rank) & (Enrollment.id < enrollment.id)),
        )
    ).scalar_one()
    return ahead + 1


def find_enrollment(course_id: int, learner_id: int) -> Enrollment | None:
    return db.session.execute(
        select(Enrollment).where(
            Enrollment.course_id == course_id, Enrollment.learner_id == learner_id
        )
    ).scalar_one_or_none()


# --- Enrol -------------------------------------------------------------------------------


def check_open(course: Course, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    if course.status != CourseStatus.PUBLISHED:
        raise EnrolmentClosed(_("This course is not open for enrolment."))
    if course.has_started(now):
        raise EnrolmentClosed(_("This course has already started."))


def enroll(
    course: Course,
    learner: User,
    *,
    by: User,
    source: EnrollmentSource = EnrollmentSource.SELF,
    reason: str | None = None,
) -> EnrolmentResult:
    """Give the learner a seat, or a place on the waiting list when the course is full."""
    check_open(course)
    if learner.role != Role.LEARNER:
        raise EnrolmentError(_("Only learner accounts can enrol in a course."))
    if by.id == learner.id and not learner.email_verified:
        raise EnrolmentError(
            _(
                "Please confirm your e-mail address first: open the link we sent you "
                "(My page can send it again)."
            )
        )
    course_id, learner_id = course.id, learner.id
    # The course lock serialises every seat change of this course until the action commits.
    lock_course(course_id)
    enrollment = find_enrollment(course_id, learner_id)
    if enrollment is not None and enrollment.status.is_active:
        raise AlreadyEnrolled(_("You are already enrolled in this course."))
    if enrollment is None:
        enrollment = Enrollment(
            course_id=course_id, learner_id=learner_id, status=EnrollmentStatus.WAITING
        )
        try:
            with db.session.begin_nested():  # undo only this insert if it loses the race
                db.session.add(enrollment)
        except IntegrityError as error:  # the same learner's other request won the race
            raise AlreadyEnrolled(_("You are already enrolled in this course.")) from error
    got_seat = _take_seat(course_id)
    enrollment.status = EnrollmentStatus.ENROLLED if got_seat else EnrollmentStatus.WAITING
    enrollment.queue_rank = 0 if got_seat else _queue_rank()
    enrollment.source = source
    enrollment.enrolled_by_id = by.id
    enrollment.promoted_at = None
    enrollment.decline_token = None
    enrollment.completed = None
    db.session.flush()
    if by.id != learner_id:
        audit.record(
            "enrollment.create",
            enrollment,
            by=by,
            learner=learner.email,
            status=enrollment.status.value,
            reason=reason,
        )
    position = waiting_position(enrollment)
    return EnrolmentResult(enrollment, position)


# --- Cancel, decline, remove, promote -----------------------------------------------------


def can_cancel(enrollment: Enrollment, course: Course, *, now: datetime | None = None) -> bool:
    """A seat may be given back until the cancellation deadline; a place on the waiting
    list at any time, as it holds no seat."""
    if not enrollment.status.is_active:
        return False
    return (
        enrollment.status == EnrollmentStatus.WAITING or (now or utcnow()) < course.cancel_deadline
    )


def _cancellation_closed(course: Course) -> EnrolmentError:
    return EnrolmentError(
        _(
            "Cancellation closed on %(date)s. Please contact the education team.",
            date=local_datetime(course.cancel_deadline),
        )
    )


def cancel(enrollment: Enrollment, *, by: User, reason: str | None = None) -> list[Enrollment]:
    """The learner leaves (or staff remove them); a freed seat goes to the waiting list.

    Returns the learners promoted into the freed seat (none or one).
    """
    course = db.session.get(Course, enrollment.course_id)
    by_staff = by.role == Role.STAFF
    if not by_staff and enrollment.learner_id != by.id:
        raise EnrolmentError(_("You can only cancel your own enrolment."))
    if not enrollment.status.is_active:
        raise EnrolmentError(_("This enrolment is no longer active."))
    if not by_staff and not can_cancel(enrollment, course):
        raise _cancellation_closed(course)
    if by_staff and by.id != enrollment.learner_id and not (reason or "").strip():
        raise EnrolmentError(_("Give a reason for removing this learner."))
    lock_course(course.id)
    db.session.refresh(enrollment)
    if not enrollment.status.is_active:  # a concurrent request got here first
        raise EnrolmentError(_("This enrolment is no longer active."))
    if not by_staff and not can_cancel(enrollment, course):  # moved up to a seat meanwhile
        raise _cancellation_closed(course)
    removed = by_staff and by.id != enrollment.learner_id
    promoted = _leave(
        enrollment, course, EnrollmentStatus.REMOVED if removed else EnrollmentStatus.CANCELLED
    )
    if removed:
        audit.record("enrollment.remove", enrollment, by=by, reason=reason.strip())
    return promoted


def release_for_erasure(enrollment: Enrollment) -> list[Enrollment]:
    """The person had their data deleted (standard 10): the seat or waiting place is given
    up whatever the cancellation cut-off, and a seat goes to the next person waiting."""
    course = db.session.get(Course, enrollment.course_id)
    lock_course(course.id)
    db.session.refresh(enrollment)
    if not enrollment.status.is_active:
        return []
    return _leave(enrollment, course, EnrollmentStatus.CANCELLED)


def decline(token: str) -> Enrollment:
    """A promoted learner gives the seat back with the link in their mail."""
    enrollment = db.session.execute(
        select(Enrollment).where(Enrollment.decline_token == token)
    ).scalar_one_or_none()
    if enrollment is None or enrollment.status != EnrollmentStatus.ENROLLED:
        raise EnrolmentError(_("This link is no longer valid."))
    course = db.session.get(Course, enrollment.course_id)
    if course.has_started(utcnow()):
        raise EnrolmentError(_("This course has already started."))
    lock_course(course.id)
    db.session.refresh(enrollment)
    if enrollment.status != EnrollmentStatus.ENROLLED or enrollment.decline_token != token:
        raise EnrolmentError(_("This link is no longer valid."))
    _leave(enrollment, course, EnrollmentStatus.DECLINED)
    return enrollment


def _leave(enrollment: Enrollment, course: Course, status: EnrollmentStatus) -> list[Enrollment]:
    """The enrolment ends in `status`; a seat it held goes to the head of the waiting list.

    Runs under the course lock. Returns the learners promoted (none or one).
    """
    had_seat = enrollment.status == EnrollmentStatus.ENROLLED
    enrollment.status = status
    enrollment.decline_token = None
    return _pass_seat_on(course) if had_seat else []


def _pass_seat_on(course: Course) -> list[Enrollment]:
    """Give the seat just freed to the head of the waiting list, or free it if none waits.

    Runs under the course lock, inside the caller's transaction.
    """
    head = _head_of_queue(course.id)
    if head is None:
        _free_seat(course.id)
        return []
    _promote(head, course)
    return [head]


def promote_into_free_seats(course: Course, *, by: User | None = None) -> list[Enrollment]:
    """After capacity was raised: move as many waiting learners as fit into seats."""
    lock_course(course.id)
    promoted = []
    while (head := _head_of_queue(course.id)) is not None and _take_seat(course.id):
        _promote(head, course)
        promoted.append(head)
    return promoted


def _head_of_queue(course_id: int) -> Enrollment | None:
    return db.session.execute(
        select(Enrollment)
        .where(Enrollment.course_id == course_id, Enrollment.status == EnrollmentStatus.WAITING)
        .options(joinedload(Enrollment.learner))
        .order_by(Enrollment.queue_rank, Enrollment.id)
        .limit(1)
    ).scalar_one_or_none()


def _promote(enrollment: Enrollment, course: Course) -> None:
    enrollment.status = EnrollmentStatus.ENROLLED
    enrollment.promoted_at = utcnow()
    enrollment.decline_token = secrets.token_urlsafe(32)
    db.session.flush()
    learner = enrollment.learner
    outbox.queue(
        learner.email,
        _("[Seat confirmed] %(title)s", title=course.title),
        "seat_promoted",
        context={
            **notifications.course_context(course),
            "decline_url": external_url("courses.decline_seat", token=enrollment.decline_token),
        },
        to_name=learner.name,
        dedupe_key=f"promotion:enrollment:{enrollment.id}:{enrollment.decline_token[:12]}",
    )


def move_in_queue(enrollment: Enrollment, *, to_position: int, by: User, reason: str) -> None:
    """Staff move a waiting learner to another place; the reason is logged."""
    if not reason.strip():
        raise EnrolmentError(_("Give a reason for changing the order of the waiting list."))
    if enrollment.status != EnrollmentStatus.WAITING:
        raise EnrolmentError(_("Only learners on the waiting list can be moved."))
    lock_course(enrollment.course_id)
    queue = [e for e in waiting_list(enrollment.course_id) if e.id != enrollment.id]
    before = waiting_position(enrollment)
    index = max(0, min(to_position - 1, len(queue)))
    if not queue:
        rank = enrollment.queue_rank
    elif index == 0:
        rank = queue[0].queue_rank - 1_000
    elif index == len(queue):
        rank = queue[-1].queue_rank + 1_000
    else:
        lower, upper = queue[index - 1].queue_rank, queue[index].queue_rank
        if upper - lower < 2:  # no room between them: respace the whole list
            for number, other in enumerate(queue):
                other.queue_rank = (number + 1) * 1_000_000
            lower, upper = queue[index - 1].queue_rank, queue[index].queue_rank
        rank = (lower + upper) // 2
    enrollment.queue_rank = rank
    audit.record(
        "waitlist.reorder",
        enrollment,
        by=by,
        reason=reason.strip(),
        from_position=before,
        to_position=index + 1,
    )


# --- Reminders ---------------------------------------------------------------------------


def remind_due(*, now: datetime | None = None) -> int:
    """Queue the day-before reminder, with the course's .ics, to every seat holder."""
    from courses import exports

    now = now or utcnow()
    tomorrow = to_local(now).date() + timedelta(days=1)
    window_start = local_to_utc(datetime.combine(tomorrow, time.min))
    window_end = window_start + timedelta(days=1)
    courses = db.session.execute(
        select(Course)
        .where(
            Course.status == CourseStatus.PUBLISHED,
            Course.starts_at >= window_start,
            Course.starts_at < window_end,
        )
        .options(selectinload(Course.instructors))
    ).scalars()
    queued = 0
    for course in courses:
        context = notifications.course_context(course)
        for enrollment in _seat_holders(course.id):
            learner = enrollment.learner
            queued += outbox.queue(
                learner.email,
                _("[Reminder] %(title)s starts tomorrow", title=course.title),
                "course_reminder",
                context=context,
                to_name=learner.name,
                dedupe_key=f"reminder:course:{course.id}:enrollment:{enrollment.id}",
                attachments=exports.invitation_attachments(
                    course,
                    cancelled=False,
                    attendee_email=learner.email,
                    attendee_name=learner.name,
                ),
            )
    return queued


def _seat_holders(course_id: int) -> list[Enrollment]:
    return list(
        db.session.execute(
            select(Enrollment)
            .where(
                Enrollment.course_id == course_id, Enrollment.status == EnrollmentStatus.ENROLLED
            )
            .options(joinedload(Enrollment.learner))
            .order_by(Enrollment.id)
        ).scalars()
    )


def enrolments_of(learner: User) -> list[Enrollment]:
    return list(
        db.session.execute(
            select(Enrollment)
            .join(Enrollment.course)
            .where(Enrollment.learner_id == learner.id)
            .options(joinedload(Enrollment.course))
            .order_by(Course.starts_at.desc())
        ).scalars()
    )


# --- Company bulk enrolment ----------------------------------------------------------------

EMAIL_SEPARATORS = re.compile(r"[\s,;]+")


#: A name longer than this is not a name but something else in the cell: left out.
MAX_RECIPIENT_NAME = 100


def parse_addresses(text: str) -> list[tuple[str, str | None]]:
    """(address, name) pairs from pasted text or a CSV file, in order, each address once.

    An address is any cell or word holding an @. Its name is the display name of
    `이름 <address>`, or, in a row holding one address, the first other cell that is not
    empty (a CSV's name column; a header row has no address and is skipped). Any line
    ending is a line end (Excel for Mac still writes a bare CR); a file the CSV reader
    cannot read (a field over its 128 KiB limit, a NUL) is a message on the file."""
    seen: dict[str, str | None] = {}
    try:
        for row in csv.reader(io.StringIO(text, newline=None)):
            for address, name in _row_recipients(row):
                if seen.get(address) is None:
                    seen[address] = name
    except csv.Error as error:
        raise EnrolmentError(
            _("The file could not be read as a list of addresses (%(reason)s).", reason=error),
            "file",
        ) from error
    return list(seen.items())


def _row_recipients(row: list[str]) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    others: list[str] = []
    for cell in (cell.strip() for cell in row):
        if "@" in cell and "<" in cell and ">" in cell:
            name, address = parseaddr(cell)
            found.append((address.lower(), _name(name)))
        elif "@" in cell:
            found.extend(
                (token.strip().strip("<>\"'").lower(), None)
                for token in EMAIL_SEPARATORS.split(cell)
                if "@" in token
            )
        elif cell:
            others.append(cell)
    if len(found) == 1 and found[0][1] is None and others:
        found = [(found[0][0], _name(others[0]))]
    return found


def _name(text: str) -> str | None:
    name = " ".join(text.strip().strip("\"'").split())
    return name if 0 < len(name) <= MAX_RECIPIENT_NAME else None


def company_enrolments(company_id: int, course_id: int | None = None) -> list[Enrollment]:
    query = (
        select(Enrollment)
        .join(Enrollment.learner)
        .join(Enrollment.course)
        .where(User.company_id == company_id)
        .options(joinedload(Enrollment.learner), joinedload(Enrollment.course))
        .order_by(Course.starts_at.desc(), User.name)
    )
    if course_id is not None:
        query = query.where(Enrollment.course_id == course_id)
    return list(db.session.execute(query).scalars())
