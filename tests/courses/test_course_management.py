"""Staff create, edit, publish and cancel courses; bad input is a form error, never a 500."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.core.accounts.models import Role
from app.core.audit import AuditEntry
from app.core.extensions import db
from courses import services
from courses.models import Course, CourseStatus, Material
from tests.conftest import login, post_form
from tests.factories import make_course, make_user, publish_year


def course_count() -> int:
    return db.session.execute(select(func.count()).select_from(Course)).scalar_one()


def course_form(**changes) -> dict:
    form = {
        "title": "상황허가(캐치올) 실무",
        "summary": "최종용도와 최종사용자에 따른 상황허가를 익힙니다.",
        "content": "1교시 요건\n2교시 실습",
        "audience": "practitioners",
        "size_focus": "all",
        "format": "classroom",
        "region": "busan",
        "venue": "부산 벡스코",
        "starts_at": "2027-03-12T10:00",
        "ends_at": "2027-03-12T17:00",
        "hours": "6",
        "capacity": "35",
        "fee": "0",
    }
    form.update(changes)
    return form


@pytest.fixture
def staff(client):
    user = make_user(Role.STAFF, name="김하늘")
    login(client, user.email)
    return user


def test_staff_create_a_draft_course_and_the_change_is_audited(client, staff) -> None:
    teacher = make_user(Role.INSTRUCTOR)
    response = post_form(client, "/courses/new", course_form(instructor_ids=[str(teacher.id)]))
    assert response.status_code == 302
    course = db.session.execute(select(Course)).scalar_one()
    assert course.status == CourseStatus.DRAFT
    assert course.year == 2027
    assert course.starts_at == datetime.fromisoformat("2027-03-12T01:00:00+00:00")  # 10:00 KST
    assert [user.id for user in services.get_course(course.id).instructors] == [teacher.id]
    entry = db.session.execute(select(AuditEntry)).scalar_one()
    assert (entry.action, entry.actor_id, entry.object_id) == (
        "course.create",
        staff.id,
        str(course.id),
    )


BAD_INPUT = {
    "missing title": {"title": ""},
    "blank summary": {"summary": "   "},
    "missing start": {"starts_at": ""},
    "malformed start": {"starts_at": "next tuesday"},
    "end before start": {"ends_at": "2027-03-12T09:00"},
    "end equals start": {"ends_at": "2027-03-12T10:00"},
    "capacity zero": {"capacity": "0"},
    "capacity negative": {"capacity": "-5"},
    "capacity not a number": {"capacity": "thirty"},
    "hours zero": {"hours": "0"},
    "negative fee": {"fee": "-1000"},
    "unknown audience": {"audience": "children"},
    "unknown region": {"region": "atlantis"},
    "unknown instructor": {"instructor_ids": ["999999"]},
}


@pytest.mark.parametrize("changes", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_course_input_is_a_form_error(client, staff, changes: dict) -> None:
    response = post_form(client, "/courses/new", course_form(**changes))
    assert response.status_code == 200
    assert 'class="error"' in response.get_data(as_text=True)
    assert course_count() == 0


def test_a_failed_edit_keeps_the_saved_course(client, staff) -> None:
    course = make_course(title="원래 제목", capacity=20)
    response = post_form(
        client,
        f"/courses/{course.id}/edit",
        course_form(title="새 제목", ends_at="2027-03-11T10:00"),
    )
    assert response.status_code == 200
    db.session.expire_all()
    saved = db.session.get(Course, course.id)
    assert (saved.title, saved.capacity) == ("원래 제목", 20)


def test_staff_edit_a_course(client, staff) -> None:
    course = make_course(capacity=20)
    response = post_form(client, f"/courses/{course.id}/edit", course_form(capacity="40"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Course, course.id).capacity == 40


def test_the_edit_form_shows_local_times(client, staff) -> None:
    course = make_course(starts=datetime(2027, 5, 6, 9, 30))
    page = client.get(f"/courses/{course.id}/edit").get_data(as_text=True)
    assert 'value="2027-05-06T09:30"' in page


def test_cancelling_needs_a_reason(client, staff) -> None:
    course = make_course()
    response = post_form(client, f"/courses/{course.id}/cancellation", {"reason": "  "})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == CourseStatus.PUBLISHED

    response = post_form(client, f"/courses/{course.id}/cancellation", {"reason": "강사 사정"})
    assert response.status_code == 302
    db.session.expire_all()
    cancelled = db.session.get(Course, course.id)
    assert (cancelled.status, cancelled.cancel_reason) == (CourseStatus.CANCELLED, "강사 사정")
    assert "취소" in client.get(f"/courses/{course.id}").get_data(as_text=True)


def test_a_single_course_is_published_only_after_its_calendar(client, staff) -> None:
    course = make_course(status=CourseStatus.DRAFT)
    post_form(client, f"/courses/{course.id}/publish")
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == CourseStatus.DRAFT

    publish_year(2027, by=staff)
    post_form(client, f"/courses/{course.id}/publish")
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == CourseStatus.PUBLISHED


def test_drafts_are_hidden_from_the_public_but_not_from_their_instructor(app, client) -> None:
    teacher = make_user(Role.INSTRUCTOR)
    draft = make_course(status=CourseStatus.DRAFT, instructors=[teacher])
    assert client.get(f"/courses/{draft.id}").status_code == 404
    login(client, teacher.email)
    assert client.get(f"/courses/{draft.id}").status_code == 200


def test_instructors_see_their_own_courses(client) -> None:
    teacher = make_user(Role.INSTRUCTOR)
    mine = make_course(title="내 과정", instructors=[teacher])
    make_course(title="남의 과정", instructors=[make_user(Role.INSTRUCTOR)])
    login(client, teacher.email)
    page = client.get("/courses/mine").get_data(as_text=True)
    assert mine.title in page
    assert "남의 과정" not in page


def test_a_missing_course_is_404(client) -> None:
    assert client.get("/courses/424242").status_code == 404
    assert client.get("/courses/abc").status_code == 404


def test_materials_are_versioned_by_upload(client) -> None:
    teacher = make_user(Role.INSTRUCTOR)
    course = make_course(instructors=[teacher])
    login(client, teacher.email)
    for content in (b"version one", b"version two"):
        response = post_form(
            client,
            f"/courses/{course.id}/materials",
            {"title": "교재", "file": (io.BytesIO(content), "handbook.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 302
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "교재" in page
    assert "handbook.pdf" in page

    newest = db.session.execute(select(Material).order_by(Material.id.desc())).scalars().first()
    download = client.get(f"/courses/materials/{newest.id}")
    assert download.data == b"version two"


def test_other_instructors_cannot_download_materials(app, client) -> None:
    teacher = make_user(Role.INSTRUCTOR)
    course = make_course(instructors=[teacher])
    material = services.add_material(course, title="교재", filename="a.pdf", data=b"x", by=teacher)
    login(client, make_user(Role.INSTRUCTOR).email)
    assert client.get(f"/courses/materials/{material.id}").status_code == 403
