"""A learner corrects their name before the certificate is issued; the certificate and its
verification page carry the corrected name."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from app.core.accounts.models import Role
from app.core.extensions import db
from app.core.timeutil import to_local, utcnow
from certificates.models import Certificate
from courses import attendance
from courses.models import AttendanceStatus, Enrollment, EnrollmentStatus
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_browser import sign_in
from tests.factories import make_course, make_user

pytestmark = pytest.mark.browser

MISSPELT, CORRECTED = "이영희", "이영훈"


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def attended_course(learner) -> int:
    """A course that ended yesterday, without a survey gate, that the learner attended."""
    starts = to_local(utcnow() - timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0, tzinfo=None
    )
    instructor = make_user(Role.INSTRUCTOR, name="박강사")
    course = make_course(
        title="상황허가(캐치올) 실무",
        starts=starts,
        requires_survey=False,
        instructors=[instructor],
        capacity=20,
        seats_taken=1,
    )
    enrollment = Enrollment(
        course_id=course.id, learner_id=learner.id, status=EnrollmentStatus.ENROLLED
    )
    db.session.add(enrollment)
    db.session.add_all(attendance.default_sessions(course))
    db.session.flush()
    for session in attendance.sessions_of(course.id):
        attendance.record_attendance(
            session, {enrollment.id: AttendanceStatus.PRESENT}, by=instructor
        )
    db.session.commit()
    return course.id


def test_name_corrected_before_issue_is_on_the_certificate_and_its_verification(
    browser: Browser, page: Page, live_server: str
) -> None:
    learner = make_user(Role.LEARNER, name=MISSPELT)
    staff = make_user(Role.STAFF, name="김하늘")
    course_id = attended_course(learner)

    # The learner sees the misspelt name and corrects it on /me/profile.
    sign_in(page, live_server, learner.email)
    page.goto(f"{live_server}/me/profile")
    name = page.get_by_label("이름", exact=True)
    expect(name).to_have_value(MISSPELT)
    expect(name).to_have_accessible_description("수료증에 표시될 이름으로 입력해 주세요.")
    name.fill(CORRECTED)
    page.get_by_role("button", name="저장", exact=True).click()
    expect(page.get_by_text("내 정보를 저장했습니다.")).to_be_visible()
    expect(page.get_by_text("아직 발급된 수료증이 없습니다.", exact=False)).to_be_visible()

    # Staff close the course: completion is recorded and the certificate issued.
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        desk = context.new_page()
        sign_in(desk, live_server, staff.email)
        desk.goto(f"{live_server}/courses/{course_id}/roster")
        desk.get_by_role("link", name="과정 마감 및 수료 처리").click()
        desk.get_by_role("button", name="과정 마감", exact=True).click()
        expect(desk.get_by_text("교육과정이 마감되었습니다. 수료 1명, 미수료 0명")).to_be_visible()
    finally:
        context.close()

    db.session.rollback()  # read what the server committed
    certificate = db.session.execute(select(Certificate)).scalar_one()
    assert certificate.holder_name == CORRECTED

    # The learner downloads the certificate from /me/: it names them as corrected.
    page.goto(f"{live_server}/me/")
    download = page.get_by_role("link", name="내려받기(PDF)")
    expect(download).to_have_count(1)
    response = page.request.get(f"{live_server}{download.get_attribute('href')}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body())
    assert CORRECTED in text
    assert MISSPELT not in text

    # Anyone with the QR code's link sees the corrected name, masked.
    page.goto(f"{live_server}/certificates/verify/{certificate.verification_code}")
    expect(page.get_by_text("유효한 수료증입니다.")).to_be_visible()
    holder = page.locator(".facts dt", has_text="수료자").locator("xpath=following-sibling::dd[1]")
    expect(holder).to_have_text("이*훈")
