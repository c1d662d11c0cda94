"""Every kind of mail the product sends, rendered by the flow that really sends it and read
back as a mail client would: by the email package's default policy, and every calendar
file with icalendar and with vobject, an independent parser.

One test drives the product (pages through the test client, the cron commands through
the CLI, the services where the trigger is time) until every template under
templates/mail/ has been queued at least once, then checks every row of the outbox. A new
template that no flow sends fails the test, naming the kind.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import icalendar
import pytest
import vobject
from flask import Flask, current_app
from sqlalchemy import select, update

from app.core import mail, outbox
from app.core.accounts.models import Role, User
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from app.core.timeutil import local_to_utc, to_local, utcnow
from courses import announcements, enrolment, exports
from courses.models import Course, CourseSession, Enrollment, EnrollmentStatus, Topic
from surveys import services as surveys
from tests.app.test_accounts import registration
from tests.conftest import IsolatedClient, login, post_form
from tests.courses.test_course_management import course_form
from tests.factories import make_course, make_two_day_course, make_user, publish_year
from tests.visits.test_mentoring import apply_form
from tests.visits.test_onsite import request_form
from visits.models import MentoringCase, OnsiteRequest, RequestState

#: Distinct from anything a request could carry, so that a link built from the request
#: (instead of from BASE_URL) shows.
BASE_URL = "https://edu.example.org"
LINK = re.compile(r"https?://[^\s<>\"']+")
HREF = re.compile(r"""\bhref\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
MESSAGE_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
TAG = re.compile(r"<[^>]+>")
WORD = re.compile(r"\w+")
#: The footer line that names who answers for a mail ("담당: 박지원 · ...").
RESPONSIBLE = re.compile(r"(?:담당|Responsible): ([^\n]+)")
#: What a template leaves behind when a value is missing or a placeholder is not filled.
LEFTOVERS = re.compile(r"\bNone\b|\bUndefined\b|\bundefined\b|\{\{|\}\}|\{%|%\(")
#: The kinds that carry a calendar file, with its METHOD.
#: Written by a staff member to one person, signed by them: not marked Auto-Submitted.
PERSONAL_KINDS = ("voice_reply", "voice_resolved")
CALENDAR_KINDS = {
    "course_reminder": "REQUEST",
    "course_changed": "REQUEST",
    "course_cancelled": "CANCEL",
}


@pytest.fixture
def app_config(app_config: dict) -> dict:
    # One confirmed sign-up opens an on-site request: the flow, not the headcount, is tested.
    return {**app_config, "BASE_URL": BASE_URL, "ONSITE_THRESHOLD": 1}


class SiteClient(IsolatedClient):
    """A browser on BASE_URL (the app refuses requests for any other host). Over HTTPS it
    sends the Referer of the site's own page, as `Referrer-Policy: same-origin` lets a
    browser do, and as the CSRF check of a secure request asks."""

    def open(self, *args, **kwargs):
        if not args or isinstance(args[0], str):
            kwargs.setdefault("base_url", BASE_URL)
            kwargs["headers"] = {"Referer": f"{BASE_URL}/", **dict(kwargs.get("headers") or {})}
        return super().open(*args, **kwargs)


@pytest.fixture
def browser(app: Flask):
    app.test_client_class = SiteClient
    return app.test_client


# --- Helpers ----------------------------------------------------------------------------


def _mails(kind: str | None = None, to: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    if to is not None:
        query = query.where(OutboxMessage.to_address == to)
    return list(db.session.execute(query).scalars())


def _expect(kind: str, to: str) -> OutboxMessage:
    """The newest mail of `kind` to `to`, which the flow just run must have queued."""
    found = _mails(kind, to)
    assert found, f"no {kind} mail to {to}; queued: {[(m.kind, m.to_address) for m in _mails()]}"
    return found[-1]


def _mailed_path(message: OutboxMessage, prefix: str) -> str:
    match = re.search(rf"{re.escape(BASE_URL)}({re.escape(prefix)}[^\s?]*)", message.body)
    assert match, message.body
    return match.group(1)


def _ok(response, *statuses: int) -> None:
    assert response.status_code in (statuses or (200, 302, 303)), (
        response.status_code,
        response.get_data(as_text=True)[-1500:],
    )


def _cli(app: Flask, *args: str) -> str:
    """A cron command, as `flask --app app <args>` runs it."""
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _local_now() -> datetime:
    return to_local(utcnow()).replace(tzinfo=None)


def _session_days(course_id: int) -> list[date]:
    db.session.expire_all()
    starts = db.session.execute(
        select(CourseSession.starts_at)
        .where(CourseSession.course_id == course_id)
        .order_by(CourseSession.starts_at)
    ).scalars()
    return [to_local(start).date() for start in starts]


# --- The flows that send mail -----------------------------------------------------------


def _accounts(browser) -> None:
    """Registration, registration with a taken address, the forgotten password."""
    make_user(email="kim@example.com", name="김기존")
    form = registration()
    # From a course page: the confirmation link carries where to go next (a query string).
    _ok(post_form(browser(), "/auth/register?next=/courses/", form), 200)
    assert "next=" in _expect("email_confirm", "new.learner@example.com").body
    _ok(post_form(browser(), "/auth/register", {**form, "email": "KIM@example.com"}), 200)
    _expect("account_exists", "kim@example.com")
    _ok(post_form(browser(), "/auth/forgot", {"email": "kim@example.com"}))
    _expect("password_reset", "kim@example.com")


def _onsite(browser, contact: User, staff: User, teacher: User) -> None:
    """A company's on-site request from the share link to the scheduled course, and one
    that lapses below its threshold."""
    company = browser()
    login(company, contact.email)
    _ok(post_form(company, "/visits/onsite/new", request_form()))
    request = (
        db.session.execute(select(OnsiteRequest).order_by(OnsiteRequest.id.desc()))
        .scalars()
        .first()
    )
    _ok(post_form(company, f"/visits/onsite/{request.id}/open"))

    participant = browser()
    signup = {"name": "연구원", "email": "engineer@hanbit.example.com", "department": "연구소"}
    _ok(post_form(participant, f"/visits/onsite/join/{request.share_token}", signup), 200)
    confirm = _expect("onsite_signup_confirm", "engineer@hanbit.example.com")
    path = _mailed_path(confirm, "/visits/onsite/confirm/")
    _ok(participant.get(path), 200)
    _ok(post_form(participant, path), 200)
    _ok(post_form(company, f"/visits/onsite/{request.id}/submit"))

    desk = browser()
    login(desk, staff.email)
    _ok(post_form(desk, f"/visits/onsite/{request.id}/accept"))
    _expect("onsite_request_status", request.contact_email)
    start = _local_now() + timedelta(days=20)
    plan = {
        "title": "한빛정밀 맞춤형 판정 실무",
        "content": "1교시 판정 실습",
        "starts_at": start.strftime("%Y-%m-%dT10:00"),
        "ends_at": start.strftime("%Y-%m-%dT16:00"),
        "hours": "5",
        "instructor_ids": [str(teacher.id)],
    }
    _ok(post_form(desk, f"/visits/onsite/{request.id}/schedule", plan))
    db.session.expire_all()
    assert db.session.get(OnsiteRequest, request.id).state == RequestState.SCHEDULED
    # The participant had no account: one was made, with a link to choose a password.
    _expect("account_invitation", "engineer@hanbit.example.com")

    # A second request gathers one unconfirmed sign-up; the deadline passes; cron lapses it.
    _ok(post_form(company, "/visits/onsite/new", request_form(title="수출관리 기초")))
    lapsing = (
        db.session.execute(select(OnsiteRequest).order_by(OnsiteRequest.id.desc()))
        .scalars()
        .first()
    )
    _ok(post_form(company, f"/visits/onsite/{lapsing.id}/open"))
    late = {"name": "지각생", "email": "late@hanbit.example.com", "department": "영업"}
    _ok(post_form(browser(), f"/visits/onsite/join/{lapsing.share_token}", late), 200)
    db.session.execute(
        update(OnsiteRequest)
        .where(OnsiteRequest.id == lapsing.id)
        .values(signup_deadline=to_local(utcnow()).date() - timedelta(days=1))
    )
    db.session.commit()
    assert "lapsed: 1." in _cli(current_app, "visits", "lapse-due")
    _expect("onsite_lapsed", "late@hanbit.example.com")


def _mentoring(browser, contact: User, staff: User, teacher: User) -> None:
    company = browser()
    login(company, contact.email)
    _ok(post_form(company, "/visits/mentoring/new", apply_form()))
    case = db.session.execute(select(MentoringCase)).scalar_one()
    desk = browser()
    login(desk, staff.email)
    _ok(post_form(desk, f"/visits/mentoring/{case.id}/assign", {"mentor_id": str(teacher.id)}))
    assert teacher.name in _expect("mentoring_status", "cp@nuri.example.com").body


def _course_life(browser, contact: User, staff: User) -> tuple[Course, dict[str, list[date]]]:
    """A two-day course: enrolment, a waiting list that moves up, a company's invitation,
    the newsletter, the day-before reminder, a new date and place, the cancellation.

    Returns the course and, per kind with a calendar file, the local days its sessions
    were on when that mail went out."""
    course = make_two_day_course(
        (_local_now() + timedelta(days=10)).replace(hour=10, minute=0, second=0, microsecond=0),
        capacity=1,
    )
    publish_year(course.year, by=staff)
    days: dict[str, list[date]] = {}

    people = []
    for number, name in enumerate(["좌석보유", "대기일번", "대기이번"]):
        person = make_user(email=f"learner{number}@example.com", name=name)
        learner = browser()
        login(learner, person.email)
        _ok(post_form(learner, f"/courses/{course.id}/enroll"))
        people.append((person, learner))
    (_, holder_browser), (first, _), (second, _) = people
    assert enrolment.find_enrollment(course.id, second.id).status == EnrollmentStatus.WAITING

    # The seat holder gives the seat back; the head of the waiting list gets it.
    _ok(post_form(holder_browser, f"/courses/{course.id}/cancel"))
    promoted = _expect("seat_promoted", first.email)
    assert "/courses/seat/decline/" in promoted.body

    # A company's training contact invites an employee.
    company = browser()
    login(company, contact.email)
    _ok(
        post_form(
            company, f"/courses/{course.id}/company", {"addresses": "new.hire@hanbit.example.com"}
        )
    )
    _expect("course_invitation", "new.hire@hanbit.example.com")

    # The newsletter: double opt-in, then the announcement cron.
    reader = browser()
    _ok(post_form(reader, "/newsletter/", {"email": "reader@example.com"}), 200)
    path = _mailed_path(_expect("newsletter_confirm", "reader@example.com"), "/newsletter/confirm/")
    _ok(post_form(reader, path), 200)
    assert "announced" in _cli(current_app, "announce-due")
    newsletter = _expect("newsletter", "reader@example.com")
    assert newsletter.unsubscribe_url.startswith(f"{BASE_URL}/newsletter/unsubscribe/")

    # The day before: the reminder cron, at 09:00 local on the eve of the first session.
    eve = datetime.combine(to_local(course.starts_at).date() - timedelta(days=1), time(9))
    assert enrolment.remind_due(now=local_to_utc(eve)) == 1
    db.session.commit()
    days["course_reminder"] = _session_days(course.id)
    _expect("course_reminder", first.email)

    # Staff move it a week on and to another place: everyone in it is told.
    desk = browser()
    login(desk, staff.email)
    moved = to_local(course.starts_at).replace(tzinfo=None) + timedelta(days=7)
    form = course_form(
        title=course.title,
        venue="대전 컨벤션센터",
        starts_at=moved.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(moved + timedelta(days=1)).strftime("%Y-%m-%dT17:00"),
        hours="12",
        capacity="1",
        change_reason="교육장 공사로 장소와 날짜를 옮깁니다.",
    )
    _ok(post_form(desk, f"/courses/{course.id}/edit", form))
    days["course_changed"] = _session_days(course.id)
    assert days["course_changed"] != days["course_reminder"]
    for person in (first, second):
        _expect("course_changed", person.email)

    # And then cancel it.
    _ok(
        post_form(
            desk, f"/courses/{course.id}/cancellation", {"reason": "강사 사정으로 취소합니다."}
        )
    )
    days["course_cancelled"] = _session_days(course.id)
    for person in (first, second):
        _expect("course_cancelled", person.email)
    return db.session.get(Course, course.id), days


def _demand(browser) -> None:
    """Notify me (standard 5): a visitor's sign-up, its confirmation, the matching course."""
    visitor = browser()
    wish = {"email": "wish@example.com", "topic": "us_ear", "note": "재수출 규정 실습"}
    _ok(post_form(visitor, "/courses/notify", wish), 200)
    path = _mailed_path(_expect("demand_confirm", "wish@example.com"), "/courses/notify/confirm/")
    _ok(post_form(visitor, path), 200)
    course = make_course(starts=_local_now() + timedelta(days=20), topic=Topic.US_EAR)
    assert announcements.announce(course)
    db.session.commit()
    told = _expect("demand_course", "wish@example.com")
    assert told.unsubscribe_url.startswith(f"{BASE_URL}/courses/notify/withdraw/")


def _voice(browser, staff: User) -> None:
    """The customers' voice desk: a visitor's inquiry and its follow link, the staff
    member's reply, a proposal's decision reported to its filer."""
    visitor = browser()
    inquiry = {
        "kind": "inquiry",
        "subject": "교육장 주차 문의",
        "message": "교육장에 주차할 수 있나요?",
        "name": "문서연",
        "email": "seoyeon@example.com",
        "consent": "y",
    }
    _ok(post_form(visitor, "/voice/new", inquiry))
    path = _mailed_path(_expect("voice_received", "seoyeon@example.com"), "/voice/")
    _ok(visitor.get(path), 200)
    proposal = {**inquiry, "kind": "proposal", "subject": "자막 제공 제안"}
    _ok(post_form(visitor, "/voice/new", proposal))
    desk = browser()
    login(desk, staff.email)
    queue = desk.get("/voice/queue").get_data(as_text=True)
    first, second = sorted({int(n) for n in re.findall(r"/voice/items/(\d+)", queue)})
    _ok(post_form(desk, f"/voice/items/{first}/reply", {"body": "인근 공영주차장이 있습니다."}))
    assert staff.name in _expect("voice_reply", "seoyeon@example.com").body
    decision = {"outcome": "accepted", "resolution": "내년부터 자막을 제공합니다."}
    _ok(post_form(desk, f"/voice/items/{second}/resolve", decision))
    _expect("voice_resolved", "seoyeon@example.com")


def _surveys(app: Flask) -> None:
    """The post-course survey, its reminder after three days, the half-yearly survey."""
    ended = make_course(starts=_local_now() - timedelta(days=5))
    learner = make_user(email="alumnus@example.com", name="수료생")
    db.session.add(
        Enrollment(
            course_id=ended.id,
            learner_id=learner.id,
            status=EnrollmentStatus.ENROLLED,
            completed=True,
        )
    )
    db.session.commit()
    assert "1 invited" in _cli(app, "surveys", "invite-post-course")
    assert surveys.send_reminders(now=utcnow() + timedelta(days=4)) == 1
    db.session.commit()
    assert len(_mails("survey_post_course", learner.email)) == 2  # the invitation, a reminder
    ended_on = to_local(ended.ends_at)
    half = f"{ended_on.year}H{1 if ended_on.month <= 6 else 2}"
    assert "1 invited" in _cli(app, "surveys", "invite-half-yearly", "--half", half)
    _expect("survey_half_yearly", learner.email)


def _message() -> None:
    """Free text (staff-written texts): queued directly, as nothing else sends it."""
    outbox.queue(
        "kim@example.com",
        "[안내] 교육장 주차 안내",
        "message",
        context={"text": "김기존님, 안녕하십니까.\n\n교육장에는 주차 공간이 없습니다."},
        to_name="김기존",
    )
    db.session.commit()


# --- What a mail client sees ------------------------------------------------------------


def _header_blocks(data: bytes, parsed: EmailMessage) -> list[list[bytes]]:
    """The header lines of the message and of every MIME part, as they are on the wire."""
    boundaries = {
        b"--" + part.get_boundary().encode() for part in parsed.walk() if part.get_boundary()
    }
    blocks, current = [], []
    in_header = True
    for line in data.split(b"\r\n"):
        if in_header:
            if line == b"":
                blocks.append(current)
                current, in_header = [], False
            else:
                current.append(line)
        elif line in boundaries:
            in_header = True
    return blocks


def _visible_text(html_part: str) -> str:
    return html.unescape(TAG.sub(" ", html_part))


def _check_calendar(
    message: OutboxMessage, part: EmailMessage, course: Course, days: dict[str, list[date]]
) -> bool:
    """Check one calendar file; True when it is the two-day course's."""
    where = f"{message.kind} to {message.to_address}"
    assert part.get_param("charset") == "utf-8", where
    ics = part.get_content()
    assert "\ufffd" not in ics, where
    calendar = icalendar.Calendar.from_ical(ics)
    method = str(calendar["METHOD"])
    assert part.get_param("method") == method == CALENDAR_KINDS[message.kind], where
    events = list(calendar.walk("VEVENT"))
    independent = vobject.readOne(ics)
    assert independent.method.value == method, where
    assert len(independent.vevent_list) == len(events) >= 1, where
    assert {str(e["UID"]) for e in events} == {e.uid.value for e in independent.vevent_list}
    for event in independent.vevent_list:
        twin = next(e for e in events if str(e["UID"]) == event.uid.value)
        assert event.dtstart.value == twin.decoded("DTSTART"), where
        assert event.dtend.value == twin.decoded("DTEND"), where
    for link in LINK.findall(re.sub(r"\r?\n[ \t]", "", ics)):
        assert link.startswith(f"{BASE_URL}/"), (where, link)
    if str(events[0].get("RELATED-TO")) != exports.course_uid(course.id):
        return False
    # The two-day course: one event per session, each within one local day.
    expected = days[message.kind]
    assert len(events) == len(expected) == 2, where
    for event in events:
        start, end = to_local(event.decoded("DTSTART")), to_local(event.decoded("DTEND"))
        assert start.date() == end.date() and start < end, (where, start, end)
    assert sorted(to_local(e.decoded("DTSTART")).date() for e in events) == expected, where
    return True


def _check(message: OutboxMessage, app: Flask, course: Course, days: dict, staff_name: str) -> bool:
    """Check one mail; True when it carried the two-day course's calendar file."""
    where = f"{message.kind} to {message.to_address}"
    data, needs_utf8 = outbox.wire_bytes(outbox.build_email(message))
    assert not needs_utf8, where
    parsed = message_from_bytes(data, policy=policy.default)

    # Nothing a parser had to repair, in any part or header.
    for part in parsed.walk():
        assert not part.defects, (where, part.get_content_type(), part.defects)
        for name, value in part.items():
            assert not getattr(value, "defects", ()), (where, name, value.defects)

    # The headers RFC 5322 asks for, and what a mail client and a spam filter look at.
    assert parsed["Date"] is not None and parsed["Date"].datetime is not None, where
    assert parsed["Date"].datetime.tzinfo is not None, where
    assert MESSAGE_ID.match(str(parsed["Message-ID"])), (where, parsed["Message-ID"])
    assert parsed["MIME-Version"] == "1.0", where
    # A staff member's reply (the voice desk's) is a person's mail, not an automatic one.
    assert parsed["Auto-Submitted"] == ("auto-generated" if message.auto_generated else None)
    assert message.auto_generated == (message.kind not in PERSONAL_KINDS), where
    (sender,) = parsed["From"].addresses
    assert sender.addr_spec == app.config["MAIL_DEFAULT_SENDER"], where
    assert sender.display_name == app.config["INSTITUTE_NAME"], where
    (recipient,) = parsed["To"].addresses
    assert recipient.addr_spec == message.to_address, where
    assert recipient.display_name == (message.to_name or ""), where
    assert parsed["Subject"] == message.subject, where
    if message.unsubscribe_url:
        assert parsed["List-Unsubscribe"] == f"<{message.unsubscribe_url}>", where
        assert message.unsubscribe_url.startswith(f"{BASE_URL}/"), where
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", where

    # Header lines within 78 characters, encoded words within 75 (RFC 5322, RFC 2047).
    for block in _header_blocks(data, parsed):
        for line in block:
            assert len(line) <= 78, (where, line)
            assert all(len(w) <= 75 for w in ENCODED_WORD.findall(line)), (where, line)

    # Both parts, side by side: multipart/alternative, inside multipart/mixed with files.
    calendars = [p for p in parsed.iter_attachments() if p.get_content_type() == "text/calendar"]
    if message.attachments:
        assert parsed.get_content_type() == "multipart/mixed", where
        (alternative,) = [
            p for p in parsed.iter_parts() if p.get_content_type() == "multipart/alternative"
        ]
    else:
        alternative = parsed
    assert alternative.get_content_type() == "multipart/alternative", where
    assert [p.get_content_type() for p in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
    ], where
    plain, rich = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain.get_content_charset() == rich.get_content_charset() == "utf-8", where
    # Line ends are CRLF in canonical text (RFC 2046), whatever the transfer encoding.
    text, markup = (part.get_content().replace("\r\n", "\n") for part in (plain, rich))
    assert text == message.body and markup == message.html_body, where

    # Nothing unrendered, nothing missing.
    for name, content in (("text", text), ("html", markup)):
        leftover = LEFTOVERS.search(content)
        assert leftover is None, (where, name, leftover and content[leftover.start() - 80 :][:200])
        assert "\ufffd" not in content, (where, name)

    # Every link absolute on BASE_URL; the same links in both parts.
    text_links = set(LINK.findall(text))
    hrefs = {html.unescape(href) for href in HREF.findall(markup)}
    assert all(h.startswith("mailto:") or h.startswith(f"{BASE_URL}/") for h in hrefs), (
        where,
        hrefs,
    )
    for link in text_links | set(LINK.findall(html.unescape(markup))):
        assert link.startswith(f"{BASE_URL}/"), (where, link)
    assert text_links == {h for h in hrefs if not h.startswith("mailto:")}, (where, text_links)
    assert "src=" not in markup.lower(), where  # nothing loaded from anywhere

    # The same content for the reader of either part: every word of the text part above
    # its footer (the macros write both parts from the same strings) is shown in the HTML.
    shown = _visible_text(markup)
    content = text[: text.rindex("\n--\n")]
    missing = set(WORD.findall(LINK.sub(" ", content))) - set(WORD.findall(LINK.sub(" ", shown)))
    assert not missing, (where, missing)
    assert message.subject in text and message.subject in shown, where
    if message.to_name:
        assert message.to_name in text and message.to_name in shown, where

    # The staff member responsible, in the footer of both parts (charter standard 11).
    footer = RESPONSIBLE.search(text[text.rindex("\n--\n") :])
    assert footer, (where, text[-400:])
    responsible = footer.group(1).split(" · ")[0].strip()
    assert RESPONSIBLE.search(shown) and responsible in shown, (where, responsible)
    if message.kind in ("course_changed", "course_cancelled", "mentoring_status", *PERSONAL_KINDS):
        assert responsible == staff_name, (where, responsible)  # who acted answers for it

    if message.kind in CALENDAR_KINDS:
        # A change goes into the calendars of seat holders only; the waiting hear of it.
        waiting = message.kind == "course_changed" and _is_waiting(message.to_address, course)
        assert len(calendars) == (0 if waiting else 1), where
    checked = [_check_calendar(message, part, course, days) for part in calendars]  # all
    return any(checked)


def _is_waiting(address: str, course: Course) -> bool:
    status = db.session.execute(
        select(Enrollment.status)
        .join(User, User.id == Enrollment.learner_id)
        .where(Enrollment.course_id == course.id, User.email == address)
    ).scalar_one()
    return status == EnrollmentStatus.WAITING


def test_every_kind_of_mail_the_product_sends_reads_cleanly(app, browser) -> None:
    staff = make_user(Role.STAFF, email="staff@example.com", name="박지원", phone="02-123-4567")
    teacher = make_user(Role.INSTRUCTOR, name="강태웅")
    contact = make_user(Role.COMPANY, name="오세훈", email="hr.contact@hanbit.example.com")

    _accounts(browser)
    _onsite(browser, contact, staff, teacher)
    _mentoring(browser, contact, staff, teacher)
    course, days = _course_life(browser, contact, staff)
    _demand(browser)
    _voice(browser, staff)
    _surveys(app)
    _message()

    messages = _mails()
    two_day = [m.kind for m in messages if _check(m, app, course, days, staff.name)]
    # The reminder and the change to the seat holder, the cancellation to both people left
    # (the person waiting hears of the change without a calendar file).
    assert sorted(two_day) == [
        "course_cancelled",
        "course_cancelled",
        "course_changed",
        "course_reminder",
    ]

    seen = {message.kind for message in messages}
    kinds = set(mail.kinds())
    assert seen == kinds, (
        f"no flow sends: {sorted(kinds - seen)}; not a template: {sorted(seen - kinds)}"
    )
