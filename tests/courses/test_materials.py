"""Standard 7: materials handed out to the seat holders, kept current, and measured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.core.accounts.models import Role, User
from app.core.extensions import db
from app.core.timeutil import local_to_utc
from courses import materials
from courses.models import Course, CourseStatus, Enrollment, EnrollmentStatus, Material
from tests.conftest import login
from tests.factories import make_course, make_user

YEAR = 2025
NOW = datetime(2025, 12, 1, 3, 0, tzinfo=UTC)


def enrol(course: Course, learner: User, status=EnrollmentStatus.ENROLLED) -> Enrollment:
    enrollment = Enrollment(course_id=course.id, learner_id=learner.id, status=status)
    db.session.add(enrollment)
    db.session.commit()
    return enrollment


def upload(
    course: Course, data: bytes, *, title: str = "교재", at: datetime, by: User | None = None
):
    material = Material(
        course_id=course.id,
        title=title,
        filename=f"{title}.pdf",
        content_type="application/pdf",
        size=len(data),
        sha256="0" * 64,
        data=data,
        uploaded_at=at,
        uploaded_by_id=by.id if by else None,
    )
    db.session.add(material)
    db.session.commit()
    return material


@pytest.fixture
def handed_out(app):
    """A course with two versions of one handout, a seat holder and a waiting learner."""
    teacher = make_user(Role.INSTRUCTOR, name="김강사")
    course = make_course(starts=datetime(2027, 3, 10, 10, 0), instructors=[teacher])
    start = course.starts_at
    old = upload(course, b"version one", at=start - timedelta(days=30), by=teacher)
    new = upload(course, b"version two", at=start - timedelta(days=3), by=teacher)
    seat = make_user()
    enrol(course, seat)
    waiting = make_user()
    enrol(course, waiting, EnrollmentStatus.WAITING)
    return course, old, new, seat, waiting


def test_a_seat_holder_downloads_the_current_version(client, handed_out) -> None:
    _course, _old, new, seat, _waiting = handed_out
    login(client, seat.email)

    response = client.get(f"/courses/materials/{new.id}")

    assert response.status_code == 200
    assert response.data == b"version two"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_a_seat_holder_gets_no_older_version(client, handed_out) -> None:
    _course, old, _new, seat, _waiting = handed_out
    login(client, seat.email)
    assert client.get(f"/courses/materials/{old.id}").status_code == 403


def test_waiting_cancelled_strangers_and_anonymous_visitors_are_refused(client, handed_out) -> None:
    course, _old, new, _seat, waiting = handed_out
    url = f"/courses/materials/{new.id}"

    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    for person in (waiting, make_user(), make_user(Role.COMPANY), make_user(Role.INSTRUCTOR)):
        other = client.application.test_client()
        login(other, person.email)
        assert other.get(url).status_code == 403, person.role
    cancelled = make_user()
    enrol(course, cancelled, EnrollmentStatus.CANCELLED)
    other = client.application.test_client()
    login(other, cancelled.email)
    assert other.get(url).status_code == 403


@pytest.mark.parametrize(
    ("who", "current", "older"),
    [
        ("anonymous", 302, 302),
        ("stranger", 403, 403),
        ("waiting", 403, 403),
        ("seat", 200, 403),
        ("company", 403, 403),
        ("other instructor", 403, 403),
        ("instructor", 200, 200),
        ("staff", 200, 200),
    ],
)
def test_the_materials_access_matrix(app, handed_out, who, current, older) -> None:
    course, old, new, seat, waiting = handed_out
    people = {
        "stranger": make_user,
        "waiting": lambda: waiting,
        "seat": lambda: seat,
        "company": lambda: make_user(Role.COMPANY),
        "other instructor": lambda: make_user(Role.INSTRUCTOR),
        "instructor": lambda: course_instructor(course),
        "staff": lambda: make_user(Role.STAFF),
    }
    client = app.test_client()
    if who != "anonymous":
        login(client, people[who]().email)
    assert client.get(f"/courses/materials/{new.id}").status_code == current
    assert client.get(f"/courses/materials/{old.id}").status_code == older


def course_instructor(course: Course) -> User:
    return db.session.execute(
        db.select(User).where(User.role == Role.INSTRUCTOR, User.name == "김강사")
    ).scalar_one()


def test_the_course_page_hands_out_current_versions_only(client, handed_out) -> None:
    course, old, new, seat, waiting = handed_out
    login(client, seat.email)

    page = client.get(f"/courses/{course.id}").get_data(as_text=True)

    assert f"/courses/materials/{new.id}" in page
    assert f"/courses/materials/{old.id}" not in page
    assert '/materials"' not in page  # no upload form

    other = client.application.test_client()
    login(other, waiting.email)
    assert 'id="materials"' not in other.get(f"/courses/{course.id}").get_data(as_text=True)


def test_staff_see_when_and_by_whom_each_material_was_updated(client, handed_out) -> None:
    course, old, _new, _seat, _waiting = handed_out
    login(client, make_user(Role.STAFF).email)

    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    card = page[page.index('id="materials"') :]

    assert "김강사" in card
    assert "2027-03-07" in card  # three days before the start, local time
    assert f"/courses/materials/{old.id}" in card


def test_my_page_lists_the_current_materials_of_each_seat(client, handed_out) -> None:
    _course, old, new, seat, waiting = handed_out
    login(client, seat.email)

    page = client.get("/me/").get_data(as_text=True)

    assert f"/courses/materials/{new.id}" in page
    assert f"/courses/materials/{old.id}" not in page
    assert materials.handouts_of(waiting) == {}


# --- Staleness and the standard's figures ----------------------------------------------


def _year_of_courses():
    """Known data for YEAR: which course is current, stale or missing, and which do not count."""
    starts = {
        "current": datetime(YEAR, 3, 10, 10, 0),
        "current_late": datetime(YEAR, 4, 10, 10, 0),
        "stale": datetime(YEAR, 5, 10, 10, 0),
        "missing": datetime(YEAR, 6, 10, 10, 0),
        "upcoming_missing": datetime(YEAR, 12, 20, 10, 0),
        "private_stale": datetime(YEAR, 7, 10, 10, 0),
        "cancelled": datetime(YEAR, 8, 10, 10, 0),
        "draft": datetime(YEAR, 9, 10, 10, 0),
    }
    courses = {}
    for key, start in starts.items():
        status = {"cancelled": CourseStatus.CANCELLED, "draft": CourseStatus.DRAFT}.get(
            key, CourseStatus.PUBLISHED
        )
        courses[key] = make_course(starts=start, status=status, private=key == "private_stale")
    at = {key: local_to_utc(start) for key, start in starts.items()}
    # Current: an old version and a fresh one (the newest decides); one exactly 365 days.
    upload(courses["current"], b"a", at=at["current"] - timedelta(days=800))
    upload(courses["current"], b"b", at=at["current"] - timedelta(days=365))
    upload(courses["current_late"], b"c", at=at["current_late"] + timedelta(hours=2))
    upload(courses["stale"], b"d", at=at["stale"] - timedelta(days=366))
    upload(courses["stale"], b"e", title="워크북", at=at["stale"] - timedelta(days=500))
    # Uploaded a month after the course ended: its learners never had it.
    upload(courses["stale"], b"h", title="사후 자료", at=at["stale"] + timedelta(days=30))
    upload(courses["private_stale"], b"f", at=at["private_stale"] - timedelta(days=400))
    upload(courses["cancelled"], b"g", at=at["cancelled"] - timedelta(days=900))
    return courses


def test_the_standards_figures_on_known_data(app) -> None:
    _year_of_courses()

    figures = materials.materials_standard(YEAR, now=NOW)

    # Started, published, public: current, current_late, stale, missing (not the
    # upcoming, private, cancelled or draft ones).
    assert figures == materials.MaterialsStandard(
        year=YEAR, courses=4, current=2, stale=1, missing=1
    )
    assert figures.current_rate == 50.0
    assert materials.materials_standard(YEAR + 1, now=NOW).current_rate is None


def test_the_staleness_view_lists_exactly_the_stale_and_missing_courses(client) -> None:
    courses = _year_of_courses()
    login(client, make_user(Role.STAFF).email)

    page = client.get(f"/courses/materials/stale?year={YEAR}").get_data(as_text=True)

    listed = {int(part.split('"')[0]) for part in page.split('data-stale="')[1:]}
    expected = {"stale", "missing", "upcoming_missing", "private_stale"}
    assert listed == {courses[key].id for key in expected}
    # By the real clock all of YEAR has started: the upcoming_missing course counts too.
    assert 'data-kpi="current">40.0%' in page


def test_the_staleness_list_is_paged(app) -> None:
    for day in range(1, 8):
        make_course(starts=datetime(YEAR, 2, day + 1, 10, 0))

    first = materials.staleness_page(YEAR, number=1, size=3)
    last = materials.staleness_page(YEAR, number=99, size=3)

    assert (first.total, first.pages, len(first.rows), first.has_next) == (7, 3, 3, True)
    assert (last.number, len(last.rows), last.has_next) == (3, 1, False)


@pytest.mark.parametrize("role", [None, Role.LEARNER, Role.COMPANY, Role.INSTRUCTOR])
def test_only_staff_open_the_staleness_view(app, role) -> None:
    client = app.test_client()
    if role is not None:
        login(client, make_user(role).email)
    response = client.get("/courses/materials/stale")
    assert response.status_code == (302 if role is None else 403)


def test_a_year_out_of_range_is_not_found(client) -> None:
    login(client, make_user(Role.STAFF).email)
    assert client.get("/courses/materials/stale?year=99999").status_code == 404
    assert client.get("/courses/materials/stale?year=abc").status_code == 200


def test_the_demo_has_current_stale_and_missing_materials(app) -> None:
    staff = make_user(Role.STAFF)
    for month in range(1, 8):
        make_course(starts=datetime(YEAR, month, 10, 10, 0))

    added = materials.seed_demo(YEAR, by=staff, today_utc=NOW)
    db.session.commit()

    figures = materials.materials_standard(YEAR, now=NOW)
    assert added > 6
    assert (figures.courses, figures.stale, figures.missing) == (7, 1, 1)
    assert materials.seed_demo(YEAR, by=staff, today_utc=NOW) == 0  # idempotent
