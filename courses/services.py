"""Course and calendar operations that views, the CLI and the seed all call."""

from __future__ import annotations

import hashlib
import mimetypes
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, case, func, select, true
from sqlalchemy.orm import selectinload

from app.core import audit
from app.core.accounts.models import Role, User
from app.core.errors import DomainError
from app.core.extensions import db
from app.core.paging import NumberedPage
from app.core.timeutil import end_of_local_day, local_today, to_local, utcnow
from app.core.vocabulary import Region
from courses import attendance, enrolment, notifications, schedule
from courses.models import (
    Audience,
    CalendarYear,
    Course,
    CourseFormat,
    CourseSession,
    CourseStatus,
    Material,
    SizeFocus,
    Topic,
)

FIRST_YEAR = 2000
LAST_YEAR = 2100


class CourseError(DomainError):
    """A refused course operation, with a message for the person and the field it concerns."""


@dataclass
class CourseDetails:
    """Everything staff enter for a course; validated by `check_details`."""

    title: str
    summary: str
    content: str
    audience: Audience
    size_focus: SizeFocus
    format: CourseFormat
    region: Region
    venue: str
    starts_at: datetime
    ends_at: datetime
    hours: Decimal
    capacity: int
    fee: int = 0
    instructor_ids: list[int] = field(default_factory=list)
    #: The post-course survey opens the certificate (the charter's default).
    requires_survey: bool = True
    #: The subject in the institute's vocabulary, if staff chose one (notify-me matching).
    topic: Topic | None = None


@dataclass(frozen=True)
class CourseFilter:
    """The catalog and calendar filters; None means 'any'."""

    year: int | None = None
    audience: Audience | None = None
    size_focus: SizeFocus | None = None
    region: Region | None = None
    format: CourseFormat | None = None
    text: str | None = None

    def apply(self, query: Select) -> Select:
        if self.year is not None:
            query = query.where(Course.year == self.year)
        if self.audience is not None:
            query = query.where(Course.audience.in_([self.audience, Audience.ALL]))
        if self.size_focus is not None:
            query = query.where(Course.size_focus.in_([self.size_focus, SizeFocus.ALL]))
        if self.region is not None:
            query = query.where(Course.region == self.region)
        if self.format is not None:
            query = query.where(Course.format == self.format)
        if self.text:
            pattern = f"%{self.text.lower()}%"
            query = query.where(
                func.lower(Course.title).like(pattern) | func.lower(Course.summary).like(pattern)
            )
        return query


# --- Reading -----------------------------------------------------------------------------


def valid_year(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def get_course(course_id: int, *, with_instructors: bool = True) -> Course | None:
    query = select(Course).where(Course.id == course_id)
    if with_instructors:
        query = query.options(
            selectinload(Course.instructors),
            selectinload(Course.materials).selectinload(Material.uploaded_by),
        )
    return db.session.execute(query).scalar_one_or_none()


def can_see_course(course: Course, user: Any) -> bool:
    """The public sees published and cancelled courses; drafts only staff and their
    instructors; a private on-site course its company's people too."""
    if course.status != CourseStatus.DRAFT and not course.private:
        return True
    if not user.is_authenticated:
        return False
    if user.role == Role.STAFF or user in course.instructors:
        return True
    return course.private and course.status != CourseStatus.DRAFT and _belongs_to(course, user)


def _belongs_to(course: Course, user: Any) -> bool:
    """The user is enrolled in the private course, or a contact of the company it is for."""
    from courses.models import Enrollment

    enrolled = db.session.execute(
        select(Enrollment.id).where(
            Enrollment.course_id == course.id, Enrollment.learner_id == user.id
        )
    ).first()
    return enrolled is not None or (
        user.company_id is not None and user.company_id == course.private_company_id
    )


def can_manage_materials(course: Course, user: Any) -> bool:
    return user.is_authenticated and (user.role == Role.STAFF or user in course.instructors)


def find_courses(
    filters: CourseFilter,
    *,
    statuses: tuple[CourseStatus, ...] = (CourseStatus.PUBLISHED,),
    include_private: bool = False,
) -> list[Course]:
    """Courses matching the filters; companies' private on-site courses only when asked."""
    query = (
        select(Course)
        .where(Course.status.in_(statuses))
        .where(true() if include_private else Course.private.is_(False))
        .options(selectinload(Course.instructors))
        .order_by(Course.starts_at, Course.id)
    )
    return list(db.session.execute(filters.apply(query)).scalars())


#: Courses per catalog page.
CATALOG_PAGE_SIZE = 24


@dataclass(frozen=True)
class CoursePage(NumberedPage):
    """One page of a course list, and where it sits in the whole."""

    courses: list[Course]
    number: int
    size: int
    total: int


def _public_courses(filters: CourseFilter) -> Select:
    return filters.apply(
        select(Course).where(Course.status == CourseStatus.PUBLISHED, Course.private.is_(False))
    )


def catalog_page(
    filters: CourseFilter, *, number: int, size: int = CATALOG_PAGE_SIZE
) -> CoursePage:
    """A page of the public catalog: a count and at most `size` courses, whatever the data.
    The courses still to come first, soonest first; then those that have ended, latest
    first (a visitor looks for what they can still attend)."""
    matching = _public_courses(filters)
    ended = Course.ends_at <= utcnow()
    total = db.session.execute(
        select(func.count()).select_from(matching.order_by(None).subquery())
    ).scalar_one()
    number = min(max(number, 1), max(1, -(-total // size)))
    courses = db.session.execute(
        matching.options(selectinload(Course.instructors))
        .order_by(
            case((ended, 1), else_=0),
            case((ended, None), else_=Course.starts_at),  # upcoming: soonest first
            Course.starts_at.desc(),  # ended: latest first
            Course.id,
        )
        .offset((number - 1) * size)
        .limit(size)
    ).scalars()
    return CoursePage(list(courses), number, size, total)


def courses_after(
    filters: CourseFilter, *, after: tuple[datetime, int] | None, limit: int
) -> tuple[list[Course], tuple[datetime, int] | None]:
    """At most `limit` public courses in start order after the cursor (start, id), and the
    cursor of the next page (None on the last): keyset paging, as fast at the end as at
    the start."""
    query = _public_courses(filters).options(selectinload(Course.instructors))
    if after is not None:
        starts_at, course_id = after
        query = query.where(
            (Course.starts_at > starts_at)
            | ((Course.starts_at == starts_at) & (Course.id > course_id))
        )
    rows = list(
        db.session.execute(query.order_by(Course.starts_at, Course.id).limit(limit + 1)).scalars()
    )
    page, more = rows[:limit], len(rows) > limit
    return page, ((page[-1].starts_at, page[-1].id) if more else None)


def upcoming_courses(limit: int = 6) -> list[Course]:
    query = (
        select(Course)
        .where(Course.is_public, Course.starts_at >= utcnow())
        .options(selectinload(Course.instructors))
        .order_by(Course.starts_at)
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def courses_taught_by(user: User) -> list[Course]:
    query = (
        select(Course)
        .where(Course.instructors.any(User.id == user.id))
        .options(selectinload(Course.instructors))
        .order_by(Course.starts_at.desc())
    )
    return list(db.session.execute(query).scalars())


def instructors() -> list[User]:
    query = (
        select(User).where(User.role == Role.INSTRUCTOR, User.active.is_(True)).order_by(User.name)
    )
    return list(db.session.execute(query).scalars())


def group_by_month(courses: list[Course]) -> OrderedDict[int, list[Course]]:
    months: OrderedDict[int, list[Course]] = OrderedDict((month, []) for month in range(1, 13))
    for course in courses:
        months[course.month].append(course)
    return months


# --- Calendar ----------------------------------------------------------------------------


def get_calendar(year: int) -> CalendarYear | None:
    return db.session.get(CalendarYear, year)


@dataclass(frozen=True)
class CalendarStamp:
    """What the year's public documents (leaflet, feed) are made of, in figures that change
    whenever they would: the courses of the year (added or removed: the count; changed:
    the newest `updated_at`, which every change of a course row sets, its sessions'
    included, as they change with the course's dates) and the calendar itself."""

    year: int
    courses: int
    sessions: int
    latest_change: datetime | None
    published_at: datetime | None
    foreword: str
    published_by: str

    @property
    def key(self) -> tuple:
        return (
            self.year,
            self.courses,
            self.sessions,
            self.latest_change.isoformat() if self.latest_change else "",
            self.published_at.isoformat() if self.published_at else "",
            hashlib.sha256(self.foreword.encode("utf-8")).hexdigest(),
            self.published_by,
        )

    @property
    def last_modified(self) -> datetime | None:
        known = [moment for moment in (self.latest_change, self.published_at) if moment]
        return max(known) if known else None


def calendar_stamp(calendar: CalendarYear) -> CalendarStamp:
    """The stamp of a calendar year in two aggregate statements, whatever its size."""
    courses, latest = db.session.execute(
        select(func.count(Course.id), func.max(Course.updated_at)).where(
            Course.year == calendar.year
        )
    ).one()
    sessions = db.session.execute(
        select(func.count(CourseSession.id))
        .join(Course, Course.id == CourseSession.course_id)
        .where(Course.year == calendar.year)
    ).scalar_one()
    return CalendarStamp(
        year=calendar.year,
        courses=courses,
        sessions=sessions,
        latest_change=latest,
        published_at=calendar.published_at,
        foreword=calendar.foreword or "",
        published_by=calendar.published_by.name if calendar.published_by else "",
    )


def calendar_is_public(year: int) -> bool:
    calendar = get_calendar(year)
    return calendar is not None and calendar.is_published


def ensure_calendar(year: int) -> CalendarYear:
    calendar = get_calendar(year)
    if calendar is None:
        calendar = CalendarYear(year=year, foreword="")
        db.session.add(calendar)
        db.session.flush()
    return calendar


def published_years() -> list[int]:
    query = select(CalendarYear.year).where(CalendarYear.is_published).order_by(CalendarYear.year)
    return list(db.session.execute(query).scalars())


def current_calendar_year(today: date | None = None) -> int | None:
    """The year whose calendar the home page and the menu lead to: this year's until next
    year's is published (in December, say), then next year's; in January, before the new
    year's is out, the last one published. None while no year is published."""
    years = published_years()
    if not years:
        return None
    this_year = (today or local_today()).year
    shown = [year for year in years if year <= this_year + 1]
    return shown[-1] if shown else years[0]


def publish_calendar(year: int, *, by: User, at: datetime | None = None) -> CalendarYear:
    """Publish a year's calendar as a whole: the year becomes public and its drafts published."""
    calendar = ensure_calendar(year)
    if calendar.is_published:
        raise CourseError(_("The %(year)d calendar is already published.", year=year))
    drafts = list(
        db.session.execute(
            select(Course).where(Course.year == year, Course.status == CourseStatus.DRAFT)
        ).scalars()
    )
    if not drafts and not _count_courses(year):
        raise CourseError(_("The %(year)d calendar has no courses yet.", year=year))
    calendar.published_at = at or utcnow()
    calendar.published_by_id = by.id
    for course in drafts:
        course.status = CourseStatus.PUBLISHED
    audit.record(
        "calendar.publish", calendar, by=by, object_type="calendar_year", courses=len(drafts)
    )
    db.session.flush()
    announce_if_due([course.id for course in drafts])
    return calendar


def announce_if_due(course_ids: list[int]) -> None:
    """Courses published inside their announcement window are announced at once (late if
    fewer than 7 days remain), instead of waiting for the next cron run."""
    from courses import announcements

    due = [course for course in announcements.due_courses() if course.id in set(course_ids)]
    if due:
        announcements.announce_due(courses=due)


def _count_courses(year: int) -> int:
    return db.session.execute(
        select(func.count()).select_from(Course).where(Course.year == year)
    ).scalar_one()


@dataclass(frozen=True)
class CalendarStandard:
    """Service standard 1 for one year: the calendar published by 31 January."""

    year: int
    deadline: datetime
    published_at: datetime | None
    state: str  # "met", "due" or "missed"


def calendar_standard(year: int, *, now: datetime | None = None) -> CalendarStandard:
    now = now or utcnow()
    deadline = end_of_local_day(date(year, 1, 31))
    calendar = get_calendar(year)
    published_at = calendar.published_at if calendar else None
    if published_at is not None:
        state = "met" if published_at <= deadline else "missed"
    else:
        state = "due" if now <= deadline else "missed"
    return CalendarStandard(year, deadline, published_at, state)


@dataclass(frozen=True)
class AudienceCoverage:
    """Standard 3 for one year: the public courses counted by target audience and by company
    size (the "everyone" and "all sizes" courses included)."""

    courses: int
    #: Courses for everyone of every company size; the rest are specialised.
    general: int
    by_audience: dict[Audience, int]
    by_size: dict[SizeFocus, int]

    @property
    def specialised(self) -> int:
        return self.courses - self.general


def audience_coverage(year: int) -> AudienceCoverage:
    rows = db.session.execute(
        select(Course.audience, Course.size_focus, func.count())
        .where(Course.year == year, Course.is_public)
        .group_by(Course.audience, Course.size_focus)
    ).all()
    by_audience = dict.fromkeys(Audience, 0)
    by_size = dict.fromkeys(SizeFocus, 0)
    general = 0
    for audience, size, count in rows:
        by_audience[audience] += count
        by_size[size] += count
        if audience == Audience.ALL and size == SizeFocus.ALL:
            general += count
    return AudienceCoverage(sum(by_audience.values()), general, by_audience, by_size)


# --- Changes -----------------------------------------------------------------------------


def check_details(details: CourseDetails) -> None:
    if not details.title.strip():
        raise CourseError(_("Enter a title."), "title")
    if details.ends_at <= details.starts_at:
        raise CourseError(_("The course must end after it starts."), "ends_at")
    if details.capacity < 1:
        raise CourseError(_("The capacity must be at least 1."), "capacity")
    if details.hours <= 0:
        raise CourseError(_("The hours must be more than 0."), "hours")
    if problem := schedule.schedule_problem(details.starts_at, details.ends_at, details.hours):
        raise CourseError(problem, "ends_at")
    if details.fee < 0:
        raise CourseError(_("The fee cannot be negative."), "fee")
    if not valid_year(to_local(details.starts_at).year):
        raise CourseError(_("Choose a date between 2000 and 2100."), "starts_at")


#: What staff edit on the course form, besides the start and end (converted to local time).
COURSE_FIELDS = (
    "title", "summary", "content", "audience", "size_focus", "format",
    "region", "venue", "hours", "capacity", "fee", "requires_survey", "topic",
)  # fmt: skip


def _apply(course: Course, details: CourseDetails) -> None:
    for name in (*COURSE_FIELDS, "starts_at", "ends_at"):
        setattr(course, name, getattr(details, name))
    course.year = to_local(details.starts_at).year
    course.instructors = _load_instructors(details.instructor_ids)


def _load_instructors(ids: list[int]) -> list[User]:
    if not ids:
        return []
    found = list(
        db.session.execute(
            select(User).where(User.id.in_(ids), User.role.in_([Role.INSTRUCTOR, Role.STAFF]))
        ).scalars()
    )
    if len(found) != len(set(ids)):
        raise CourseError(_("Choose instructors from the list."), "instructor_ids")
    return found


def create_course(details: CourseDetails, *, by: User | None) -> Course:
    """Create a draft course; it goes public with its year's calendar, or by `publish_course`."""
    check_details(details)
    course = Course(status=CourseStatus.DRAFT, seats_taken=0)
    _apply(course, details)
    ensure_calendar(course.year)
    db.session.add(course)
    db.session.flush()
    db.session.add_all(attendance.default_sessions(course))
    audit.record("course.create", course, by=by, title=course.title)
    return course


def create_private_course(details: CourseDetails, *, company_id: int, by: User) -> Course:
    """A course for one company only (custom on-site training): published at once, kept out
    of the catalog, calendar, feeds and announcements."""
    course = create_course(details, by=by)
    course.private = True
    course.private_company_id = company_id
    course.status = CourseStatus.PUBLISHED
    db.session.flush()
    return course


def update_course(
    course: Course, details: CourseDetails, *, by: User, change_reason: str = ""
) -> Course:
    """Save staff's changes; a raised capacity moves waiting learners into the new seats.

    A new date, time or place of a published course is mailed to everyone in it, with
    `change_reason` and the calendar file that updates their entry."""
    if course.status == CourseStatus.CANCELLED:
        raise CourseError(_("A cancelled course cannot be changed."))
    check_details(details)
    enrolment.lock_course(course.id)
    db.session.refresh(course, ["seats_taken", "capacity"])
    if details.capacity < course.seats_taken:
        raise CourseError(
            _("%(n)d seats are already taken; the capacity cannot be lower.", n=course.seats_taken),
            "capacity",
        )
    before = {"title": course.title, "starts_at": course.starts_at, "capacity": course.capacity}
    schedule_before = notifications.Schedule.of(course)
    dates_changed = (details.starts_at, details.ends_at, details.hours) != (
        course.starts_at,
        course.ends_at,
        course.hours,
    )
    _apply(course, details)
    ensure_calendar(course.year)
    db.session.flush()
    if dates_changed:
        attendance.reset_sessions(course)
    if course.status == CourseStatus.PUBLISHED:
        notifications.course_rescheduled(course, schedule_before, reason=change_reason, by=by)
    promoted = (
        enrolment.promote_into_free_seats(course) if course.status == CourseStatus.PUBLISHED else []
    )
    audit.record(
        "course.update",
        course,
        by=by,
        before=before,
        promoted=[enrollment.learner_id for enrollment in promoted],
    )
    return course


def publish_course(course: Course, *, by: User | None) -> Course:
    """Publish one course added after its year's calendar went out."""
    if not course.status.can_become(CourseStatus.PUBLISHED):
        raise CourseError(_("Only a draft course can be published."))
    if not calendar_is_public(course.year):
        raise CourseError(
            _("Publish the %(year)d calendar first; its courses go out together.", year=course.year)
        )
    course.status = CourseStatus.PUBLISHED
    audit.record("course.publish", course, by=by)
    db.session.flush()
    announce_if_due([course.id])
    return course


def cancel_course(course: Course, reason: str, *, by: User) -> Course:
    if not course.status.can_become(CourseStatus.CANCELLED):
        raise CourseError(_("This course is already cancelled."))
    if not reason.strip():
        raise CourseError(_("Give a reason for the cancellation."), "reason")
    course.status = CourseStatus.CANCELLED
    course.cancel_reason = reason.strip()
    audit.record("course.cancel", course, by=by, reason=course.cancel_reason)
    notifications.course_cancelled(course, by=by)
    return course


# --- Materials ---------------------------------------------------------------------------


def add_material(course: Course, *, title: str, filename: str, data: bytes, by: User) -> Material:
    """Store an uploaded file; the newest upload under a title is its current version."""
    if not data:
        raise CourseError(_("The file is empty."), "file")
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    material = Material(
        course_id=course.id,
        title=title.strip() or filename,
        filename=filename,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by_id=by.id,
    )
    db.session.add(material)
    db.session.flush()
    audit.record("material.upload", material, by=by, course_id=course.id, filename=filename)
    return material


def current_materials(course: Course) -> list[tuple[Material, list[Material]]]:
    """Each title's newest version with its older versions, newest titles first."""
    by_title: OrderedDict[str, list[Material]] = OrderedDict()
    for material in course.materials:  # already newest first
        by_title.setdefault(material.title, []).append(material)
    return [(versions[0], versions[1:]) for versions in by_title.values()]


def get_material(material_id: int) -> Material | None:
    return db.session.execute(
        select(Material)
        .where(Material.id == material_id)
        .options(selectinload(Material.course).selectinload(Course.instructors))
    ).scalar_one_or_none()


def catalog_subjects() -> list[str]:
    """The distinct titles of public courses: the subjects a company can ask for."""
    return list(
        db.session.execute(
            select(Course.title).where(Course.private.is_(False)).distinct().order_by(Course.title)
        ).scalars()
    )
