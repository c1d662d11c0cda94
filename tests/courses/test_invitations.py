"""A company's bulk enrolment: invitations that each person accepts, from approved companies
only, capped, and telling the company nothing about an address."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.accounts.models import Company, Role, User
from app.core.accounts.services import find_user
from app.core.audit import AuditEntry
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from courses import enrolment
from courses.models import Course, CourseInvitation, EnrollmentStatus
from tests.conftest import login, post_form
from tests.factories import PASSWORD, make_company, make_course, make_user

LINK = re.compile(r"http://localhost(/courses/invitations/[A-Za-z0-9_-]+)")


def upcoming(**fields) -> Course:
    return make_course(starts=datetime.now() + timedelta(days=30), **fields)


def count(model, *conditions) -> int:
    return db.session.execute(
        select(func.count()).select_from(model).where(*conditions)
    ).scalar_one()


def invitation_link(address: str) -> str:
    message = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.to_address == address)
    ).scalar_one()
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def invite(client, course: Course, addresses: str, **extra):
    return post_form(client, f"/courses/{course.id}/company", {"addresses": addresses, **extra})


def test_every_valid_address_gets_an_invitation_and_nobody_is_enrolled_or_created(client) -> None:
    contact = make_user(Role.COMPANY)
    colleague = make_user(company=contact.company, email="kim@hanbit.example.com")
    outsider = make_user(email="lee@other.example.com", company=make_company())
    course = upcoming(capacity=2)
    users_before = count(User)
    login(client, contact.email)

    response = invite(
        client,
        course,
        "kim@hanbit.example.com, new.hire@hanbit.example.com\n"
        "lee@other.example.com\nnot-an-address@",
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert count(User) == users_before  # no account is made for an address
    assert count(CourseInvitation) == 3
    for address in (
        "kim@hanbit.example.com",
        "new.hire@hanbit.example.com",
        "lee@other.example.com",
    ):
        assert count(OutboxMessage, OutboxMessage.to_address == address) == 1
    db.session.expire_all()
    assert enrolment.find_enrollment(course.id, colleague.id) is None
    assert enrolment.find_enrollment(course.id, outsider.id) is None
    assert db.session.get(Course, course.id).seats_taken == 0
    # Nothing tells the company that lee@ has an account in another company.
    assert "outside your company" not in page and "다른 회사" not in page
    assert "not-an-address@" in page  # a typing error is the company's own to fix


def test_the_result_page_is_the_same_for_known_and_unknown_addresses(app) -> None:
    contact = make_user(Role.COMPANY)
    make_user(email="known@other.example.com", company=make_company())
    course = upcoming()
    pages = []
    for address in ("known@other.example.com", "unknown@nowhere.example.com"):
        client = app.test_client()
        login(client, contact.email)
        page = invite(client, course, address).get_data(as_text=True)
        page = re.sub(r'name="csrf_token" value="[^"]+"', "", page)
        # The list of the company's own invitations grows; the answer does not differ.
        pages.append(page.split("<h3>")[0].replace(address, "@"))
    assert pages[0] == pages[1]


def test_a_person_without_an_account_accepts_and_sets_it_up(client) -> None:
    contact = make_user(Role.COMPANY)
    course = upcoming()
    login(client, contact.email)
    invite(client, course, "new.hire@hanbit.example.com")
    post_form(client, "/auth/logout")
    link = invitation_link("new.hire@hanbit.example.com")

    assert client.get(link).status_code == 200
    response = post_form(
        client,
        link,
        {
            "name": "신입사원",
            "password": "a long new password",
            "confirm": "a long new password",
            "consent_privacy": "y",
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    learner = find_user("new.hire@hanbit.example.com")
    assert (learner.name, learner.company_id, learner.role) == (
        "신입사원",
        contact.company_id,
        Role.LEARNER,
    )
    assert learner.email_verified
    assert enrolment.find_enrollment(course.id, learner.id).status == EnrollmentStatus.ENROLLED
    assert client.get("/me/").status_code == 200  # signed in
    assert client.get(link).status_code == 410  # used


def test_an_existing_account_accepts_only_when_signed_in_as_the_invitee(app) -> None:
    contact = make_user(Role.COMPANY)
    colleague = make_user(company=contact.company, email="kim@hanbit.example.com")
    stranger = make_user(email="someone@else.example.com")
    course = upcoming(capacity=1)
    company_client = app.test_client()
    login(company_client, contact.email)
    invite(company_client, course, "kim@hanbit.example.com")
    link = invitation_link("kim@hanbit.example.com")

    anonymous = app.test_client()
    assert "/auth/login" in anonymous.get(link).get_data(as_text=True)
    assert post_form(anonymous, link).status_code == 403
    other = app.test_client()
    login(other, stranger.email)
    assert post_form(other, link).status_code == 403
    assert count(CourseInvitation, CourseInvitation.accepted_at.is_not(None)) == 0

    invitee = app.test_client()
    login(invitee, colleague.email)
    assert post_form(invitee, link).status_code == 302
    db.session.expire_all()
    assert enrolment.find_enrollment(course.id, colleague.id).status == EnrollmentStatus.ENROLLED
    assert db.session.get(Course, course.id).seats_taken == 1


def test_at_most_300_addresses_at_a_time(client) -> None:
    contact = make_user(Role.COMPANY)
    course = upcoming()
    login(client, contact.email)
    addresses = "\n".join(f"person{n}@hanbit.example.com" for n in range(301))
    response = invite(client, course, addresses)
    assert response.status_code == 200
    assert "300" in response.get_data(as_text=True)
    assert count(CourseInvitation) == 0
    assert count(OutboxMessage) == 0


def test_an_uploaded_list_over_1_mb_is_refused_with_a_message(client) -> None:
    contact = make_user(Role.COMPANY)
    course = upcoming()
    login(client, contact.email)
    big = io.BytesIO(b"a@example.com\n" * (1024 * 1024 // 14 + 10))
    response = invite(client, course, "", file=(big, "list.csv"))
    assert response.status_code == 200
    assert re.search(r"1\s?MB", response.get_data(as_text=True))
    assert count(CourseInvitation) == 0


def test_an_unapproved_company_can_neither_invite_nor_request_a_visit(client) -> None:
    contact = make_user(Role.COMPANY, company=make_company(approved_at=None))
    course = upcoming()
    login(client, contact.email)
    page = invite(client, course, "kim@hanbit.example.com").get_data(as_text=True)
    assert count(CourseInvitation) == 0 and count(OutboxMessage) == 0
    assert "승인" in page  # "approval"

    from visits.models import OnsiteRequest

    page = client.get("/visits/onsite/new").get_data(as_text=True)
    assert "승인" in page
    assert count(OnsiteRequest) == 0


def test_staff_approve_a_company_and_the_approval_is_audited(client) -> None:
    waiting = make_company(name="새로온기업", approved_at=None)
    staff = make_user(Role.STAFF)
    login(client, staff.email)
    assert "새로온기업" in client.get("/staff/companies").get_data(as_text=True)
    assert post_form(client, f"/staff/companies/{waiting.id}/approve").status_code == 302
    db.session.expire_all()
    assert db.session.get(Company, waiting.id).is_approved
    assert count(AuditEntry, AuditEntry.action == "company.approve") == 1
    assert "새로온기업</td>" not in client.get("/staff/companies").get_data(as_text=True)


def test_inviting_the_same_address_twice_mails_it_once(client) -> None:
    contact = make_user(Role.COMPANY)
    course = upcoming()
    login(client, contact.email)
    invite(client, course, "kim@hanbit.example.com")
    invite(client, course, "KIM@hanbit.example.com")
    assert count(OutboxMessage) == 1
    assert count(CourseInvitation) == 1


def test_a_learner_with_an_unconfirmed_address_cannot_enrol(client) -> None:
    learner = make_user(email_verified_at=None)
    course = upcoming()
    login(client, learner.email, PASSWORD)
    response = post_form(client, f"/courses/{course.id}/enroll", follow_redirects=True)
    assert "e-mail" in response.get_data(as_text=True) or "이메일" in response.get_data(
        as_text=True
    )
    assert enrolment.find_enrollment(course.id, learner.id) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "김민준 <Minjun@Example.com>\nlee@example.com",
            [("minjun@example.com", "김민준"), ("lee@example.com", None)],
        ),
        (
            '"박 도윤" <park@example.com>, choi@example.com',
            [("park@example.com", "박 도윤"), ("choi@example.com", None)],
        ),
        (
            "이름,부서,이메일\n정지호,수출관리팀,jung@example.com\n",
            [("jung@example.com", "정지호")],
        ),
        ("a@example.com b@example.com 김민준", [("a@example.com", None), ("b@example.com", None)]),
        ("kim@example.com\n김민준 <kim@example.com>", [("kim@example.com", "김민준")]),
    ],
)
def test_bulk_addresses_keep_the_names_given(text, expected) -> None:
    assert enrolment.parse_addresses(text) == expected


def test_the_invitation_page_offers_the_name_the_company_gave(client) -> None:
    contact = make_user(Role.COMPANY)
    course = upcoming()
    login(client, contact.email)
    invite(client, course, "정지호 <jung.new@hanbit.example.com>")
    assert "정지호" in client.get(f"/courses/{course.id}/company").get_data(as_text=True)
    link = invitation_link("jung.new@hanbit.example.com")
    page = client.application.test_client().get(link).get_data(as_text=True)
    assert 'value="정지호"' in page
