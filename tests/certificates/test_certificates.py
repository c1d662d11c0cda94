"""Certificates: issued once, rendered once, downloadable by their holder, verifiable by anyone."""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import func, select

from app.core.accounts.models import Role, User
from app.core.extensions import db
from certificates import services
from certificates.models import Certificate, CertificateStatus
from courses import attendance
from courses.models import Enrollment, EnrollmentStatus
from tests.conftest import _config, login, post_form
from tests.factories import make_course, make_user
from tests.pdfs import font_faces, images


def completed_enrolment(course=None, *, name: str = "홍길동", answered: bool = True) -> Enrollment:
    """A learner who completed a closed course (and answered its survey, unless told not to)."""
    staff = make_user(Role.STAFF, name="김하늘")
    course = course or make_course(
        title="전략물자 판정 실무", starts=datetime(2026, 3, 5, 10, 0), hours=Decimal("12")
    )
    course.closed_at, course.closed_by_id = course.ends_at, staff.id
    learner = make_user(name=name)
    enrollment = Enrollment(
        course_id=course.id,
        learner_id=learner.id,
        status=EnrollmentStatus.ENROLLED,
        completed=True,
        survey_submitted=answered,
    )
    db.session.add(enrollment)
    db.session.commit()
    return enrollment


def issue(enrollment: Enrollment) -> Certificate | None:
    """The enrolment's certificate as every path settles it (courses decides, certificates
    issues), committed as the action that settles it would."""
    certificate = attendance.settle_certificate(enrollment)
    db.session.commit()
    return certificate


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_issuing_twice_gives_the_same_certificate(app) -> None:
    enrollment = completed_enrolment()
    first = issue(enrollment)
    second = issue(enrollment)
    assert first.id == second.id
    assert db.session.execute(select(func.count()).select_from(Certificate)).scalar_one() == 1
    assert first.serial.startswith(f"{datetime.now().year}-") and len(first.serial) == 12
    assert services.CODE_PATTERN.match(first.verification_code)
    assert first.issued_by_name == "김하늘"  # the staff member who recorded completion


def test_the_survey_gate_holds_until_the_survey_is_answered(app) -> None:
    enrollment = completed_enrolment(answered=False)
    assert issue(enrollment) is None
    enrollment.survey_submitted = True
    db.session.commit()
    assert issue(enrollment).is_valid


def test_a_course_without_a_survey_issues_when_completion_is_recorded(client) -> None:
    staff = make_user(Role.STAFF)
    course = make_course(starts=datetime.now() - timedelta(days=3), requires_survey=False)
    db.session.add_all(attendance.default_sessions(course))
    learner = make_user()
    enrollment = Enrollment(course_id=course.id, learner_id=learner.id, status="enrolled")
    db.session.add(enrollment)
    course.seats_taken = 1
    db.session.commit()
    session = attendance.sessions_of(course.id)[0]
    attendance.record_attendance(session, {enrollment.id: "present"}, by=staff)
    db.session.commit()

    login(client, staff.email)
    post_form(client, f"/courses/{course.id}/close")

    certificate = services.valid_certificate(enrollment.id)
    assert certificate is not None and certificate.issued_by_id == staff.id


def test_an_incomplete_enrolment_gets_no_certificate(app) -> None:
    enrollment = completed_enrolment()
    enrollment.completed = False
    db.session.commit()
    assert issue(enrollment) is None
    assert services.valid_certificate(enrollment.id) is None


def test_the_holder_and_staff_download_it_and_nobody_else(app, client) -> None:
    enrollment = completed_enrolment()
    certificate = issue(enrollment)
    url = f"/certificates/{certificate.serial}.pdf"
    holder = db.session.get(User, enrollment.learner_id)

    assert client.get(url).status_code == 302  # anonymous: sign in first
    login(client, make_user().email)
    assert client.get(url).status_code == 403
    owner = app.test_client()
    login(owner, holder.email)
    assert owner.get(url).status_code == 200
    staff = app.test_client()
    login(staff, make_user(Role.STAFF).email)
    assert staff.get(url).status_code == 200
    assert staff.get("/certificates/2026-9999999.pdf").status_code == 404
    assert staff.get("/certificates/nonsense.pdf").status_code == 404


def test_the_pdf_names_holder_course_serial_and_issuer_in_korean(app, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="weasyprint")
    certificate = issue(completed_enrolment(name="김수출"))
    data = services.pdf_bytes(certificate)
    text = pdf_text(data)
    for expected in (
        "수료증",
        "김수출",
        "전략물자 판정 실무",
        certificate.serial,
        "12시간",
        "김하늘",
    ):
        assert expected in text, expected
    metadata = PdfReader(io.BytesIO(data)).metadata
    assert certificate.serial in metadata.title
    assert metadata.author == app.config["INSTITUTE_NAME"]
    assert [r.getMessage() for r in caplog.records if "glyph" in r.getMessage()] == []
    assert font_faces(data) == {"NanumMyeongjo"}  # one face: each costs a subset per document
    assert images(data) == 1  # the QR code, as a picture rather than vector paths to draw


def test_the_qr_code_decodes_to_the_verification_url(app) -> None:
    certificate = issue(completed_enrolment())
    page = pypdfium2.PdfDocument(services.pdf_bytes(certificate))[0]
    image = page.render(scale=3).to_pil()
    decoded = [result.text for result in zxingcpp.read_barcodes(image)]
    assert decoded == [services.verify_url(certificate)]
    assert decoded[0].endswith(f"/certificates/verify/{certificate.verification_code}")


def test_the_first_render_is_stored_and_served_afterwards(app) -> None:
    certificate = issue(completed_enrolment(name="이서연"))
    first = services.pdf_bytes(certificate)
    db.session.get(User, certificate.learner_id).name = "이름바꿈"
    db.session.commit()
    assert services.pdf_bytes(certificate) == first
    stored = db.session.execute(select(Certificate.pdf_sha256)).scalar_one()
    assert stored == hashlib.sha256(first).hexdigest()


def verify(client, code: str):
    response = client.get(f"/certificates/verify/{code}")
    return response.status_code, response.get_data(as_text=True)


def test_the_verify_page_for_a_valid_certificate_masks_the_name(client) -> None:
    certificate = issue(completed_enrolment(name="홍길동"))
    status, page = verify(client, certificate.verification_code)
    assert status == 200
    assert "유효한 수료증" in page
    assert "홍*동" in page and "홍길동" not in page
    assert "전략물자 판정 실무" in page and "12" in page
    assert certificate.serial not in page


def test_the_verify_page_for_revoked_unknown_and_malformed_codes(client) -> None:
    certificate = issue(completed_enrolment())
    services.revoke(certificate, "오기재", by=make_user(Role.STAFF))
    db.session.commit()
    status, page = verify(client, certificate.verification_code)
    assert status == 200 and "효력이 취소" in page and "홍*동" not in page

    status, page = verify(client, "A" * services.CODE_LENGTH)
    assert status == 404 and "발급된 수료증이 없습니다" in page
    for malformed in ("abc", "'; DROP TABLE certificates; --", "0" * 16):
        status, page = verify(client, malformed)
        assert status == 404 and "올바른 확인 코드가 아닙니다" in page
    # A control character never reaches the view: the URL converter refuses it.
    status, page = verify(client, "%00")
    assert status == 404 and "찾을 수 없" in page


def test_reissue_revokes_the_old_and_issues_a_new_serial(client) -> None:
    certificate = issue(completed_enrolment())
    staff = make_user(Role.STAFF, name="박정민")
    login(client, staff.email)
    refused = post_form(client, f"/certificates/{certificate.serial}/reissue", {"reason": ""})
    assert refused.status_code == 302
    assert services.valid_certificate(certificate.enrollment_id).id == certificate.id

    post_form(client, f"/certificates/{certificate.serial}/reissue", {"reason": "성명 정정"})
    db.session.expire_all()
    old = db.session.get(Certificate, certificate.id)
    new = services.valid_certificate(certificate.enrollment_id)
    assert old.status == CertificateStatus.REVOKED and old.replaced_by_id == new.id
    assert new.serial != old.serial and new.issued_by_name == "박정민"
    assert verify(client, old.verification_code)[0] == 200
    assert "효력이 취소" in verify(client, old.verification_code)[1]

    page = client.get(f"/courses/{old.course_id}/certificates").get_data(as_text=True)
    revoked = page.split("취소된 수료증", 1)[1]  # the history stays listed, with its reason
    assert old.serial in revoked and "성명 정정" in revoked and new.serial in revoked


def test_bulk_downloads_hold_every_certificate_of_the_course(client) -> None:
    first = completed_enrolment(name="가나다")
    course_id = first.course_id
    from courses.models import Course

    course = db.session.get(Course, course_id)
    others = [completed_enrolment(course, name=f"교육생{n}") for n in range(3)]
    for enrollment in (first, *others):
        issue(enrollment)
    login(client, make_user(Role.STAFF).email)

    bulk = client.get(f"/courses/{course_id}/certificates/all.pdf")
    assert bulk.status_code == 200
    assert len(PdfReader(io.BytesIO(bulk.data)).pages) == 4
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(f"/courses/{course_id}/certificates/all.zip").data)
    )
    assert len(archive.namelist()) == 4
    assert all(name.endswith(".pdf") for name in archive.namelist())


def test_racing_issuers_never_share_a_serial(app) -> None:
    enrollments = [completed_enrolment(name=f"동시{n}").id for n in range(12)]
    serials: list[str] = []
    barrier = threading.Barrier(len(enrollments))

    def work(enrollment_id: int) -> None:
        with app.app_context():
            barrier.wait()
            serials.append(issue(db.session.get(Enrollment, enrollment_id)).serial)
            db.session.remove()

    threads = [threading.Thread(target=work, args=(e,)) for e in enrollments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(serials) == 12 and len(set(serials)) == 12


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("홍길동", "홍*동"),
        ("김수", "김*"),
        ("남궁민수", "남**수"),
        ("이", "이"),
        ("John Smith", "J********h"),
    ],
)
def test_names_are_masked_the_korean_way(name: str, masked: str) -> None:
    assert services.mask_name(name) == masked


@pytest.fixture
def rate_limited_app(database_url):
    from app import create_app
    from app.core.extensions import limiter

    config = {**_config(database_url), "RATELIMIT_ENABLED": True}
    app = create_app(config)
    with app.app_context():
        if database_url.startswith("sqlite"):
            db.create_all()
        yield app
        limiter.reset()
        db.session.remove()


def test_verification_is_rate_limited(rate_limited_app) -> None:
    client = rate_limited_app.test_client()
    codes = [client.get(f"/certificates/verify/{'B' * 16}").status_code for _ in range(31)]
    assert codes[:30] == [404] * 30
    assert codes[30] == 429


def test_a_code_can_be_typed_into_the_verification_form(client) -> None:
    certificate = issue(completed_enrolment(name="김수출"))
    page = client.get("/certificates/verify/")
    assert page.status_code == 200 and 'name="code"' in page.get_data(as_text=True)
    assert "Set-Cookie" not in page.headers  # a GET form: no token, no session

    code = certificate.verification_code
    typed = f" {code[:4].lower()} {code[4:8]}-{code[8:12]} {code[12:]} "
    found = client.get("/certificates/verify/", query_string={"code": typed})
    assert found.status_code == 303
    assert found.headers["Location"].endswith(f"/certificates/verify/{code}")
    result = client.get(found.headers["Location"]).get_data(as_text=True)
    assert "김*출" in result and 'name="code"' in result  # and the form for another


@pytest.mark.parametrize("typed", ["", "   ", "ABC", "O0O0O0O0O0O0O0O0", "가" * 16, "A" * 41])
def test_a_malformed_code_is_a_clear_form_error(client, typed) -> None:
    response = client.get("/certificates/verify/", query_string={"code": typed})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="error"' in page and 'aria-invalid="true"' in page


def test_a_learner_corrects_their_name_before_the_certificate_is_issued(client) -> None:
    from app.core.audit import AuditEntry

    enrollment = completed_enrolment(name="kim.learner")  # named after the e-mail's local part
    learner = db.session.get(User, enrollment.learner_id)
    login(client, learner.email)
    assert 'name="name"' in client.get("/me/profile").get_data(as_text=True)
    saved = post_form(
        client, "/me/profile", {"name": "  김바른 ", "phone": "010-2222-3333", "department": ""}
    )
    assert saved.status_code == 302
    db.session.expire_all()
    learner = db.session.get(User, learner.id)
    assert (learner.name, learner.phone, learner.department) == ("김바른", "010-2222-3333", None)
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "user.profile"))
    assert entry.scalar_one().actor_id == learner.id

    certificate = issue(db.session.get(Enrollment, enrollment.id))
    assert certificate.holder_name == "김바른"
    assert "김바른" in pdf_text(services.render([certificate]))


def test_a_blank_name_is_refused_and_nothing_changes(client) -> None:
    learner = make_user(name="이서연")
    login(client, learner.email)
    response = post_form(client, "/me/profile", {"name": "   ", "phone": "", "department": ""})
    assert response.status_code == 200 and 'class="error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, learner.id).name == "이서연"
