"""A course's certificate pages: staff list, issue and download them; a learner gets theirs."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from decimal import Decimal

from pypdf import PdfReader

from app.core.accounts.models import Role, User
from app.core.extensions import db
from certificates import services as certificates
from courses.models import Course, Enrollment, EnrollmentStatus
from tests.conftest import login, post_form
from tests.factories import make_course, make_user


def closed_course() -> Course:
    staff = make_user(Role.STAFF, name="김하늘")
    course = make_course(
        title="전략물자 판정 실무", starts=datetime(2026, 3, 5, 10, 0), hours=Decimal("12")
    )
    course.closed_at, course.closed_by_id = course.ends_at, staff.id
    db.session.commit()
    return course


def completed(course: Course, *, name: str = "홍길동", answered: bool = True) -> Enrollment:
    enrollment = Enrollment(
        course_id=course.id,
        learner_id=make_user(name=name).id,
        status=EnrollmentStatus.ENROLLED,
        completed=True,
        survey_submitted=answered,
    )
    db.session.add(enrollment)
    db.session.commit()
    return enrollment


def test_staff_issue_the_ready_certificates_and_download_them_all(client) -> None:
    course = closed_course()
    ready = [completed(course, name=f"교육생{n}") for n in range(2)]
    waiting = completed(course, name="미응답", answered=False)
    login(client, make_user(Role.STAFF).email)

    response = post_form(client, f"/courses/{course.id}/certificates/issue")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/courses/{course.id}/certificates")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "교육생0" in page and "교육생1" in page and "미응답" not in page
    db.session.expire_all()
    assert all(certificates.valid_certificate(e.id) for e in ready)
    assert certificates.valid_certificate(waiting.id) is None

    bulk = client.get(f"/courses/{course.id}/certificates/all.pdf")
    assert bulk.status_code == 200 and bulk.mimetype == "application/pdf"
    assert len(PdfReader(io.BytesIO(bulk.data)).pages) == 2
    archive = client.get(f"/courses/{course.id}/certificates/all.zip")
    assert archive.headers["Content-Disposition"].startswith("attachment; ")
    assert len(zipfile.ZipFile(io.BytesIO(archive.data)).namelist()) == 2


def test_a_course_without_certificates_has_no_bulk_download(client) -> None:
    course = closed_course()
    login(client, make_user(Role.STAFF).email)
    assert client.get(f"/courses/{course.id}/certificates").status_code == 200
    assert client.get(f"/courses/{course.id}/certificates/all.zip").status_code == 404


def test_the_certificate_pages_of_a_course_are_for_staff_only(client) -> None:
    course = closed_course()
    url = f"/courses/{course.id}/certificates"
    assert "/auth/login" in client.get(url).headers["Location"]
    for role in (Role.LEARNER, Role.COMPANY, Role.INSTRUCTOR):
        other = client.application.test_client()
        login(other, make_user(role).email)
        assert other.get(url).status_code == 403
        assert post_form(other, f"{url}/issue").status_code == 403


def test_a_learner_gets_their_certificate_and_it_opens(client) -> None:
    enrollment = completed(closed_course(), name="김수출")
    login(client, db.session.get(User, enrollment.learner_id).email)

    response = post_form(client, f"/courses/enrollments/{enrollment.id}/certificate")

    assert response.status_code == 302
    db.session.expire_all()
    certificate = certificates.valid_certificate(enrollment.id)
    assert certificate is not None
    assert response.headers["Location"].endswith(f"/certificates/{certificate.serial}.pdf")
    assert client.get(response.headers["Location"]).status_code == 200


def test_a_learner_who_has_not_answered_the_survey_is_told_why(client) -> None:
    enrollment = completed(closed_course(), answered=False)
    login(client, db.session.get(User, enrollment.learner_id).email)

    response = post_form(
        client, f"/courses/enrollments/{enrollment.id}/certificate", follow_redirects=True
    )

    assert response.status_code == 200
    assert 'class="flash flash-error"' in response.get_data(as_text=True)
    assert certificates.valid_certificate(enrollment.id) is None


def test_a_learner_cannot_ask_for_someone_elses_certificate(client) -> None:
    enrollment = completed(closed_course())
    login(client, make_user().email)
    response = post_form(client, f"/courses/enrollments/{enrollment.id}/certificate")
    assert response.status_code == 404
    assert certificates.valid_certificate(enrollment.id) is None
