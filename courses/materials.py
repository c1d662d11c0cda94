"""Standard 7, materials kept current and handed out.

Who may download what: staff and the course's instructors every version of every
material (`services.can_manage_materials`); a learner holding a confirmed seat (status
"enrolled", so not the waiting list, nor a cancelled, declined or removed place) the
*current* version of each title, the newest upload under it, from the course page and
from /me. Older versions stay with staff and instructors.

When a course's materials count as current: its newest upload from before the course
ended (what its learners were handed; one made during the course counts) is at most
`FRESH_DAYS` days older than the course's start. Older than that is stale; none at all
is missing. `materials_standard` counts the
year's published public courses that have started; `staleness_page` lists, for staff,
the year's published courses (upcoming and private ones too, so that they can still act)
that are stale or missing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, and_, case, exists, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.sql.expression import FunctionElement

from app.core.accounts.models import User
from app.core.extensions import db
from app.core.paging import NumberedPage
from app.core.timeutil import utcnow
from courses.models import Course, CourseStatus, Enrollment, EnrollmentStatus, Material
from courses.services import can_manage_materials

#: Materials count as current when updated at most this many days before the course start.
FRESH_DAYS = 365
#: Courses per page of the staleness list.
STALE_PAGE_SIZE = 50


# --- Who may download ----------------------------------------------------------------------

#: The enrolment status that gets the materials: a confirmed seat.
SEAT = EnrollmentStatus.ENROLLED


def is_seat(enrollment: Enrollment | None) -> bool:
    """The person's place in the course is a confirmed seat (`holds_seat`, loaded)."""
    return enrollment is not None and enrollment.status == SEAT


def holds_seat(course: Course, user: Any) -> bool:
    """The user has a confirmed seat in the course (not a place on the waiting list)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.execute(
            select(Enrollment.id).where(
                Enrollment.course_id == course.id,
                Enrollment.learner_id == user.id,
                Enrollment.status == SEAT,
            )
        ).first()
        is not None
    )


def can_download_materials(course: Course, user: Any) -> bool:
    """The user may download the course's current materials (staff and its instructors
    also the older versions: `services.can_manage_materials`)."""
    return can_manage_materials(course, user) or holds_seat(course, user)


def _newer_version_exists(material) -> Any:
    """SQL: a later upload under the same title in the same course (the id breaks a tie)."""
    newer = aliased(Material)
    return exists().where(
        newer.course_id == material.course_id,
        newer.title == material.title,
        or_(
            newer.uploaded_at > material.uploaded_at,
            and_(newer.uploaded_at == material.uploaded_at, newer.id > material.id),
        ),
    )


def is_current(material: Material) -> bool:
    """No later version of this material's title was uploaded."""
    newer = db.session.execute(select(_newer_version_exists(material))).scalar()
    return not newer


def can_download(material: Material, user: Any) -> bool:
    """Staff and instructors: any version; a seat holder: the current version only."""
    course = material.course
    if can_manage_materials(course, user):
        return True
    return holds_seat(course, user) and is_current(material)


def handouts_of(user: User) -> dict[int, list[Material]]:
    """The current materials of every course the learner holds a seat in, by course id,
    newest first (for /me): one query, without the files' bytes."""
    rows = db.session.execute(
        select(Material)
        .join(
            Enrollment,
            and_(
                Enrollment.course_id == Material.course_id,
                Enrollment.learner_id == user.id,
                Enrollment.status == SEAT,
            ),
        )
        .where(~_newer_version_exists(Material))
        .order_by(Material.course_id, Material.uploaded_at.desc(), Material.id.desc())
    ).scalars()
    handouts: dict[int, list[Material]] = {}
    for material in rows:
        handouts.setdefault(material.course_id, []).append(material)
    return handouts


# --- Staleness -----------------------------------------------------------------------------


class days_before(FunctionElement):
    """`moment - n days` in SQL, on both engines."""

    type = DateTime()
    inherit_cache = True


@compiles(days_before, "sqlite")
def _days_before_sqlite(element, compiler, **kw) -> str:
    moment, days = (compiler.process(clause, **kw) for clause in element.clauses)
    # The column holds naive UTC as text; datetime() gives the same form, to the second.
    return f"datetime({moment}, '-' || {days} || ' days')"


@compiles(days_before, "postgresql")
def _days_before_postgresql(element, compiler, **kw) -> str:
    moment, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({moment} - make_interval(days => {days}))"


def _latest_upload():
    """Per course: the newest upload of any of its materials that was there before the
    course ended, i.e. what its learners were handed (NULL without any). A file uploaded
    afterwards does not make a past course's materials current."""
    return (
        select(Material.course_id, func.max(Material.uploaded_at).label("latest"))
        .join(Course, Course.id == Material.course_id)
        .where(Material.uploaded_at <= Course.ends_at)
        .group_by(Material.course_id)
        .subquery("latest_material")
    )


def _freshness(latest) -> Any:
    """SQL: 'missing', 'stale' or 'current' for a course joined to `_latest_upload()`."""
    return case(
        (latest.c.latest.is_(None), "missing"),
        (latest.c.latest < days_before(Course.starts_at, FRESH_DAYS), "stale"),
        else_="current",
    )


@dataclass(frozen=True)
class StaleCourse:
    course: Course
    #: "stale" or "missing".
    state: str
    #: When its materials were last updated; None when it has none.
    latest: datetime | None

    @property
    def days_old(self) -> int | None:
        """How many days before the course's start its newest material was uploaded."""
        if self.latest is None:
            return None
        return (self.course.starts_at - self.latest).days


@dataclass(frozen=True)
class StalePage(NumberedPage):
    rows: list[StaleCourse]
    number: int
    size: int
    total: int


def staleness_page(year: int, *, number: int = 1, size: int = STALE_PAGE_SIZE) -> StalePage:
    """The year's published courses whose materials are stale or missing, by start; at
    most `size` of them per page."""
    latest = _latest_upload()
    state = _freshness(latest)
    query = (
        select(Course, state.label("state"), latest.c.latest)
        .outerjoin(latest, latest.c.course_id == Course.id)
        .where(Course.year == year, Course.status == CourseStatus.PUBLISHED)
        .where(state != "current")
    )
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    number = min(max(number, 1), max(1, -(-total // size)))
    rows = db.session.execute(
        query.options(selectinload(Course.instructors))
        .order_by(Course.starts_at, Course.id)
        .limit(size)
        .offset((number - 1) * size)
    ).all()
    return StalePage(
        [StaleCourse(course, row_state, row_latest) for course, row_state, row_latest in rows],
        number,
        size,
        total,
    )


# --- The standard's figures ----------------------------------------------------------------


@dataclass(frozen=True)
class MaterialsStandard:
    year: int
    #: The year's published (not cancelled, not private) courses that have started.
    courses: int
    #: Of those, with at least one material updated within FRESH_DAYS before the start.
    current: int
    #: With materials, all older than that.
    stale: int
    #: With no material.
    missing: int

    @property
    def current_rate(self) -> float | None:
        """Share of the started courses whose materials are current, in percent."""
        if not self.courses:
            return None
        return round(100 * self.current / self.courses, 1)


def materials_standard(year: int, *, now: datetime | None = None) -> MaterialsStandard:
    """Standard 7's figures for `year`, counted in one aggregate query."""
    now = now or utcnow()
    latest = _latest_upload()
    state = _freshness(latest)
    courses, current, stale, missing = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((state == "current", 1), else_=0)), 0),
            func.coalesce(func.sum(case((state == "stale", 1), else_=0)), 0),
            func.coalesce(func.sum(case((state == "missing", 1), else_=0)), 0),
        )
        .select_from(Course)
        .outerjoin(latest, latest.c.course_id == Course.id)
        .where(Course.year == year, Course.is_public, Course.starts_at <= now)
    ).one()
    return MaterialsStandard(year, courses, int(current), int(stale), int(missing))


# --- Demo ----------------------------------------------------------------------------------


def _demo_pdf(title: str) -> bytes:
    """A one-page PDF that says what it stands for (ASCII only: the standard fonts)."""
    text = f"CourseDesk demo handout: {title}".encode("ascii", "replace").decode()
    stream = f"BT /F1 18 Tf 72 760 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


#: The demo's handouts: (title, file name).
DEMO_HANDOUTS = [
    ("강의 교안", "lecture-notes.pdf"),
    ("실습 워크북", "workbook.pdf"),
]


def seed_demo(year: int, *, by: User, today_utc: datetime | None = None) -> int:
    """Materials for the demo: most of the year's published courses that have started get
    a lecture handout (some a second version and a workbook), one an old handout that
    went stale, one none at all. Idempotent: a course with any material is left alone,
    and the last course is always left without. Returns the materials added."""
    now = today_utc or utcnow()
    started = (
        db.session.execute(
            select(Course)
            .where(Course.year == year, Course.is_public, Course.starts_at <= now)
            .order_by(Course.starts_at, Course.id)
        )
        .scalars()
        .all()
    )
    if not started:
        return 0
    with_materials = set(db.session.execute(select(Material.course_id).distinct()).scalars())
    added = 0
    for number, course in enumerate(started[:-1]):  # the last one: missing
        if course.id in with_materials:
            continue
        stale = number == 1
        uploads = [(DEMO_HANDOUTS[0], timedelta(days=400 if stale else 14))]
        if not stale and number % 3 == 0:
            uploads.append((DEMO_HANDOUTS[0], timedelta(days=3)))  # a corrected version
        if not stale and number % 2 == 0:
            uploads.append((DEMO_HANDOUTS[1], timedelta(days=7)))
        for (title, filename), before in uploads:
            data = _demo_pdf(f"{course.title} - {title}")
            db.session.add(
                Material(
                    course_id=course.id,
                    title=title,
                    filename=filename,
                    content_type="application/pdf",
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    data=data,
                    uploaded_at=course.starts_at - before,
                    uploaded_by_id=by.id,
                )
            )
            added += 1
    db.session.flush()
    return added
