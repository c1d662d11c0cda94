"""A certificate follows completion: one function decides it, every path goes through it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.core.accounts.models import Role
from app.core.audit import AuditEntry
from app.core.extensions import db
from certificates import services as certificates
from certificates.models import Certificate, CertificateStatus
from courses import attendance
from courses.models import AttendanceStatus, Enrollment, EnrollmentStatus
from tests.conftest import login, post_form
from tests.factories import make_two_day_course, make_user


def ended_course(*, requires_survey: bool = False, learners: int = 2):
    """A two-session course that ended about five days ago, with its seat holders."""
    starts = datetime.now() - timedelta(days=6)
    course = make_two_day_course(starts, requires_survey=requires_survey)
    rows = [
        Enrollment(course_id=course.id, learner_id=make_user().id, status=EnrollmentStatus.ENROLLED)
        for _ in range(learners)
    ]
    db.session.add_all(rows)
    course.seats_taken = learners
    db.session.commit()
    return course, rows


def mark_all(course, rows, status: AttendanceStatus, *, by) -> None:
    for session in attendance.sessions_of(course.id):
        attendance.record_attendance(session, {row.id: status for row in rows}, by=by)


def test_closing_a_course_issues_certificates_to_those_who_completed(app) -> None:
    course, (present, absent) = ended_course()
    staff = make_user(Role.STAFF)
    mark_all(course, [present], AttendanceStatus.PRESENT, by=staff)
    mark_all(course, [absent], AttendanceStatus.ABSENT, by=staff)

    attendance.close_course(course, by=staff)
    db.session.commit()

    assert certificates.valid_certificate(present.id).issued_by_name == staff.name
    assert certificates.valid_certificate(absent.id) is None


def test_withdrawn_completion_revokes_the_certificate_and_verify_says_so(client) -> None:
    course, (row,) = ended_course(learners=1)
    staff = make_user(Role.STAFF)
    mark_all(course, [row], AttendanceStatus.PRESENT, by=staff)
    attendance.close_course(course, by=staff)
    db.session.commit()
    code = certificates.valid_certificate(row.id).verification_code
    assert "valid" in client.get(f"/certificates/verify/{code}").get_data(as_text=True)

    login(client, staff.email)
    response = post_form(
        client,
        f"/courses/{course.id}/roster/{row.id}/completion",
        {"completed": "0", "reason": "출석부 오기 정정"},
    )
    assert response.status_code == 302

    db.session.expire_all()
    assert db.session.get(Enrollment, row.id).completed is False
    revoked = db.session.execute(
        select(Certificate).where(Certificate.verification_code == code)
    ).scalar_one()
    assert revoked.status == CertificateStatus.REVOKED
    page = client.get(f"/certificates/verify/{code}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "verdict-revoked" in text and "verdict-valid" not in text
    assert revoked.revoke_reason in text

    # Completed again: a new certificate, the revoked one stays revoked.
    post_form(
        client,
        f"/courses/{course.id}/roster/{row.id}/completion",
        {"completed": "1", "reason": "재확인 결과 수료"},
    )
    db.session.expire_all()
    again = certificates.valid_certificate(row.id)
    assert again is not None and again.verification_code != code


def test_attendance_changed_after_closing_recomputes_completion_and_certificate(app) -> None:
    course, (late_fixed, overridden) = ended_course()
    staff = make_user(Role.STAFF)
    mark_all(course, [late_fixed, overridden], AttendanceStatus.ABSENT, by=staff)
    attendance.close_course(course, by=staff)
    attendance.override_completion(overridden, True, "병가 증빙", by=staff)
    db.session.commit()
    assert certificates.valid_certificate(late_fixed.id) is None
    assert certificates.valid_certificate(overridden.id) is not None

    # The instructor's paper roster arrives late: both attended after all.
    mark_all(course, [late_fixed, overridden], AttendanceStatus.PRESENT, by=staff)
    db.session.commit()

    db.session.expire_all()
    assert db.session.get(Enrollment, late_fixed.id).completed is True
    assert certificates.valid_certificate(late_fixed.id) is not None
    # Staff's override is kept; the rule does not overwrite a decision with a reason.
    assert db.session.get(Enrollment, overridden.id).completion_override_reason == "병가 증빙"
    recomputed = db.session.execute(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "completion.recompute")
    ).scalar_one()
    assert recomputed == 2  # once per session marked after closing


def test_the_survey_gate_issues_the_certificate_on_submission_without_a_timestamp(app) -> None:
    course, (row,) = ended_course(requires_survey=True, learners=1)
    staff = make_user(Role.STAFF)
    mark_all(course, [row], AttendanceStatus.PRESENT, by=staff)
    attendance.close_course(course, by=staff)
    db.session.commit()
    assert certificates.valid_certificate(row.id) is None
    stamped = db.session.get(Enrollment, row.id).updated_at

    attendance.record_survey_submitted(row.id)
    db.session.commit()

    db.session.expire_all()
    enrollment = db.session.get(Enrollment, row.id)
    assert enrollment.survey_submitted is True
    assert enrollment.updated_at == stamped  # nothing says when the survey was answered
    assert certificates.valid_certificate(row.id) is not None
