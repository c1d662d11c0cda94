"""axe-core in Chromium on every main page of every role, on the demo data set.

Each role signs in once (anonymous visitors do not) and opens the pages in `PAGES` that list
it; axe-core (vendored in `tests/browser/vendor/`, nothing is downloaded) runs on each, and
any violation of impact serious or critical fails the test with the rule, its impact, the
elements it found and the page's URL. The counts of every impact go to
`tests/browser/.axe-summary.json` (git-ignored) and to the test's output.

To check a new page, add a `Page` row: its path with `{placeholders}` filled from
`DemoData` (add a field there if the page needs an id the demo has), and the roles that
open it. `optional=True` marks a page of a feature still being built: the row is skipped
while no route matches its path and checked as soon as one does.
`test_every_page_route_is_in_the_table` fails for a GET page route no row reaches.

The demo data set (`app.demo.seed`) is built once per run into an SQLite file that each test
copies (on PostgreSQL, `TEST_DATABASE_URL`, each test seeds its own).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from playwright.sync_api import Page as BrowserPage
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from app import create_app
from app.core.accounts.models import User
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from app.core.timeutil import to_local, utcnow
from app.demo import DEMO_PASSWORD, seed
from certificates.models import Certificate, CertificateStatus
from courses.models import (
    Announcement,
    CalendarYear,
    Course,
    CourseSession,
)
from surveys.models import InstructorMeeting, Invitation
from tests.browser.conftest import TIMEOUT_MS
from tests.conftest import _config
from tests.factories import make_course
from visits import mentoring
from visits.models import CpStatus, MentoringCase, MentoringNeed, OnsiteRequest
from voice.models import VoiceItem

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SUMMARY = Path(__file__).parent / ".axe-summary.json"
FAILING_IMPACTS = ("serious", "critical")
IMPACTS = ("minor", "moderate", "serious", "critical")
#: The window's width; AXE_WIDTH=360 checks the phone layout (tables as lists, nav wrapped).
WIDTH = int(os.environ.get("AXE_WIDTH", "1280"))

ANONYMOUS, LEARNER, COMPANY, INSTRUCTOR, STAFF = (
    "anonymous",
    "learner",
    "company",
    "instructor",
    "staff",
)
ROLES = (ANONYMOUS, LEARNER, COMPANY, INSTRUCTOR, STAFF)
#: The main form's submit button.
SUBMIT = "main form[method=post] button:is([type=submit], :not([type]))"
SIGNED_IN = (LEARNER, COMPANY, INSTRUCTOR, STAFF)
EVERYONE = ROLES
#: The demo's sign-ins (app/demo.py).
LOGINS = {
    LEARNER: "learner@example.com",
    COMPANY: "company@example.com",
    INSTRUCTOR: "instructor@example.com",
    STAFF: "staff@example.com",
}


@dataclass(frozen=True)
class Page:
    """A page to check: a path (with `{field}`s of `DemoData`) and who opens it."""

    path: str
    roles: tuple[str, ...]
    #: The status the page answers with (a not-found page is still a page to check).
    status: int = 200
    #: A page of a feature still being built: skipped while no route matches the path
    #: (or the demo has none of what its placeholders need).
    optional: bool = False
    #: A submit button (CSS) to press first, with the browser's own checks off: the page is
    #: then checked as it shows the form's errors.
    submit: str | None = None


@dataclass(frozen=True)
class DemoData:
    """The ids and tokens of the demo data that the pages' paths need."""

    year: int
    next_year: int
    #: The year whose service-standards report the demo publishes.
    last_year: int
    open_course: int
    full_course: int
    ended_course: int
    announcement: int
    verification_code: str
    survey_token: str
    onsite_request: int
    onsite_token: str
    mentoring_case: int
    own_mentoring_case: int
    taught_course: int
    session: int
    instructor: int
    meeting: int
    mail_message: int
    certificate_serial: str
    #: Of features still being built (None while the demo has none).
    voice_token: str | None = None
    voice_item: int | None = None


PAGES: list[Page] = [
    # Public pages; home and the course pages change with the role (nav, enrol box).
    Page("/", EVERYONE),
    Page("/courses/", (ANONYMOUS, LEARNER)),
    Page("/courses/?audience=practitioners&size=sme&region=seoul&format=classroom", (ANONYMOUS,)),
    Page("/courses/?q=%EC%97%86%EB%8A%94%EA%B3%BC%EC%A0%95", (ANONYMOUS,)),  # no results
    Page("/courses/{open_course}", EVERYONE),
    Page("/courses/{full_course}", (ANONYMOUS, LEARNER)),
    Page("/courses/{ended_course}", (ANONYMOUS, LEARNER, STAFF)),
    Page("/calendar/{year}", (ANONYMOUS, STAFF)),
    Page("/calendar/{year}?region=busan", (ANONYMOUS,)),
    Page("/calendar/{next_year}", (ANONYMOUS,), status=404),  # not yet published
    Page("/calendar/{next_year}", (STAFF,)),  # staff see it before it is published
    Page("/announcements/", (ANONYMOUS,)),
    Page("/announcements/{announcement}", (ANONYMOUS,)),
    Page("/newsletter/", (ANONYMOUS,)),
    Page("/certificates/verify/", (ANONYMOUS,)),
    Page("/certificates/verify/{verification_code}", (ANONYMOUS,)),
    Page("/certificates/verify/NOSUCHCODE0000", (ANONYMOUS,), status=404),
    Page("/auth/login", (ANONYMOUS,)),
    Page("/auth/register", (ANONYMOUS,)),
    Page("/auth/register/company", (ANONYMOUS,)),
    Page("/auth/forgot", (ANONYMOUS,)),
    Page("/surveys/{survey_token}", (ANONYMOUS,)),
    Page("/visits/onsite/join/{onsite_token}", (ANONYMOUS,)),
    Page("/no-such-page", (ANONYMOUS,), status=404),
    # Every signed-in person.
    Page("/auth/password", (LEARNER,)),
    # Learners.
    Page("/me/", (LEARNER, COMPANY)),
    Page("/me/profile", (LEARNER,)),
    Page("/me/delete", (LEARNER,)),
    Page("/courses/{open_course}/cancel", (LEARNER,)),
    # Company contacts.
    Page("/courses/{open_course}/company", (COMPANY,)),
    Page("/visits/onsite/", (COMPANY, STAFF)),
    Page("/visits/onsite/new", (COMPANY,)),
    Page("/visits/onsite/{onsite_request}", (COMPANY, STAFF)),
    Page("/visits/onsite/{onsite_request}/edit", (COMPANY,)),
    Page("/visits/mentoring/", (COMPANY, INSTRUCTOR, STAFF)),
    Page("/visits/mentoring/new", (COMPANY,)),
    Page("/visits/mentoring/{own_mentoring_case}", (COMPANY,)),
    Page("/visits/mentoring/{mentoring_case}", (STAFF,)),
    # Instructors.
    Page("/courses/mine", (INSTRUCTOR,)),
    Page("/courses/{taught_course}/roster", (INSTRUCTOR, STAFF)),
    Page("/courses/{taught_course}/sessions/{session}/attendance", (INSTRUCTOR,)),
    Page("/surveys/meetings/", (INSTRUCTOR, STAFF)),
    Page("/surveys/meetings/{meeting}", (INSTRUCTOR, STAFF)),
    Page("/surveys/reports/instructor/{instructor}", (INSTRUCTOR, STAFF)),
    # Staff.
    Page("/staff/", (STAFF,)),
    Page("/staff/companies", (STAFF,)),
    Page("/staff/mail/", (STAFF,)),
    Page("/staff/mail/{mail_message}", (STAFF,)),
    Page("/courses/manage", (STAFF,)),
    Page("/courses/new", (STAFF,)),
    Page("/courses/{open_course}/edit", (STAFF,)),
    Page("/courses/{open_course}/announcement", (STAFF,)),
    Page("/courses/{open_course}/cancellation", (STAFF,)),
    Page("/courses/{ended_course}/certificates", (STAFF,)),
    Page("/courses/{ended_course}/close", (STAFF,)),
    Page("/calendar/{next_year}/publish", (STAFF,)),
    Page("/surveys/reports/", (STAFF,)),
    Page("/surveys/reports/{year}", (STAFF,)),
    Page("/surveys/reports/{year}/H1", (STAFF,)),
    Page("/surveys/reports/course/{ended_course}", (STAFF,)),
    Page("/surveys/reports/course/{ended_course}/pending", (STAFF,)),
    Page("/surveys/templates/", (STAFF,)),
    Page("/surveys/templates/post_course", (STAFF,)),
    Page("/surveys/meetings/new", (STAFF,)),
    Page("/surveys/meetings/{meeting}/edit", (STAFF,)),
    Page("/visits/mentoring/checklist-items", (STAFF,)),
    Page("/visits/onsite/{onsite_request}/close", (STAFF,)),
    Page("/visits/mentoring/{mentoring_case}/close", (STAFF,)),
    # Forms showing their errors (submitted empty).
    Page("/auth/login", (ANONYMOUS,), submit=SUBMIT),
    Page("/auth/register", (ANONYMOUS,), submit=SUBMIT),
    Page("/auth/forgot", (ANONYMOUS,), submit=SUBMIT),
    Page("/newsletter/", (ANONYMOUS,), submit=SUBMIT),
    Page(
        "/me/profile",
        (LEARNER,),
        submit="main form:has(#name) button:is([type=submit], :not([type]))",
    ),
    Page("/visits/onsite/new", (COMPANY,), submit=SUBMIT),
    Page("/visits/mentoring/new", (COMPANY,), submit=SUBMIT),
    Page("/courses/new", (STAFF,), submit=SUBMIT),
    # Features being added (each row checked once its route exists).
    Page("/voice/new", (ANONYMOUS, LEARNER)),
    Page("/voice/new", (ANONYMOUS,), submit=SUBMIT),
    Page("/voice/{voice_token}", (ANONYMOUS,)),
    Page("/voice/queue", (STAFF,)),
    Page("/voice/items/{voice_item}", (STAFF,)),
    Page("/voice/items/{voice_item}/close", (STAFF,)),
    Page("/courses/notify", (ANONYMOUS, LEARNER)),
    Page("/courses/notify", (ANONYMOUS,), submit=SUBMIT),
    Page("/courses/demand", (STAFF,)),
    Page("/courses/demand/new?topic=classification&region=busan", (STAFF,)),
    Page("/courses/materials/stale", (STAFF,)),
    Page("/standards/", (ANONYMOUS,)),
    Page("/standards/{year}", (STAFF,)),  # the public see it once published
    Page("/standards/{year}/publish", (STAFF,)),
    Page("/standards/{last_year}", (ANONYMOUS, LEARNER)),
]

#: GET routes that are no page to check: files, feeds, JSON, and links from mail whose
#: token the demo does not keep (their pages share templates with pages above).
NOT_PAGES = {
    "static",
    "main.healthz",
    "courses.api_courses",
    "courses.announcement_feed",
    "courses.upcoming_feed",
    "courses.personal_feed",
    "courses.calendar_ics",
    "courses.calendar_pdf",
    "courses.calendar_index",  # a redirect to the year's page
    "courses.roster_export",
    # A mail's HTML as sent, in a sandboxed frame of staff.mail_message; its CSP (no script
    # at all) stops axe. Checked by hand with the CSP bypassed: no serious finding, only the
    # landmarks a mail has no use for.
    "staff.mail_preview",
    "courses.certificates_bulk",
    "courses.download_material",
    "certificates.download",
    "me.personal_data",
    "surveys.year_report_pdf",
    "surveys.half_report_pdf",
    "surveys.course_report_pdf",
    "surveys.instructor_report_pdf",
    "surveys.meeting_pack_pdf",
    "surveys.raw_answers",
    "visits.mentoring_visit_pdf",
    "visits.onsite_confirm_withdraw",  # the same confirmation page as onsite_confirm_close
    "accounts.confirm_email",
    "accounts.set_password",
    "courses.confirm_subscription",
    "courses.unsubscribe",
    "courses.decline_seat",
    "courses.invitation",
    "visits.confirm_signup",
    "courses.confirm_interest",
    "courses.withdraw_interest",
    "standards.report_pdf",
}


# --- the data set -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file holding the seeded demo, built once per run."""
    path = tmp_path_factory.mktemp("axe-demo") / "demo.sqlite3"
    app = create_app(_config(f"sqlite:///{path}"))
    with app.app_context():
        db.create_all()
        seed()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return path


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_schema: str | None
) -> str:
    if postgres_schema:
        return postgres_schema
    copy = tmp_path / "test.sqlite3"
    shutil.copyfile(request.getfixturevalue("demo_template"), copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def demo(app: Flask, postgres_schema: str | None) -> DemoData:
    if postgres_schema:  # the app fixture emptied the shared schema
        seed()
        db.session.commit()
    return demo_data()


def _first(query):
    return db.session.execute(query.limit(1)).scalar_one_or_none()


def demo_data() -> DemoData:
    """Find in the demo what the pages need; add what the demo lacks on this day (late in
    December no course of the year may be open or full)."""
    now = utcnow()
    upcoming = select(Course.id).where(Course.is_public, Course.starts_at > now + timedelta(days=8))
    open_course = _first(upcoming.where(Course.seats_taken < Course.capacity))
    if open_course is None:
        open_course = make_course(starts=_local(now + timedelta(days=30))).id
    full_course = _first(upcoming.where(Course.seats_taken >= Course.capacity))
    if full_course is None:
        full_course = make_course(
            starts=_local(now + timedelta(days=40)), capacity=12, seats_taken=12
        ).id
    certificate = db.session.execute(
        select(Certificate)
        .where(Certificate.status == CertificateStatus.VALID)
        .order_by(Certificate.id)
        .limit(1)
    ).scalar_one()
    instructor = db.session.execute(
        select(User).where(User.email == LOGINS[INSTRUCTOR])
    ).scalar_one()
    taught = db.session.execute(
        select(CourseSession.course_id, CourseSession.id)
        .join(Course, Course.id == CourseSession.course_id)
        .where(Course.instructors.any(User.id == instructor.id), Course.ends_at < now)
        .order_by(Course.starts_at.desc())
        .limit(1)
    ).one()
    company = db.session.execute(select(User).where(User.email == LOGINS[COMPANY])).scalar_one()
    onsite = db.session.execute(
        select(OnsiteRequest)
        .where(OnsiteRequest.company_id == company.company_id)
        .order_by(OnsiteRequest.id)
        .limit(1)
    ).scalar_one()
    year = db.session.execute(
        select(CalendarYear.year)
        .where(CalendarYear.is_published)
        .order_by(CalendarYear.year.desc())
    ).scalar()
    return DemoData(
        year=year,
        next_year=year + 1,
        last_year=year - 1,
        open_course=open_course,
        full_course=full_course,
        ended_course=certificate.course_id,
        announcement=_first(select(Announcement.id).where(Announcement.published_at.is_not(None))),
        verification_code=certificate.verification_code,
        certificate_serial=certificate.serial,
        survey_token=_first(
            select(Invitation.token).where(Invitation.submitted.is_(False)).order_by(Invitation.id)
        ),
        onsite_request=onsite.id,
        onsite_token=onsite.share_token,
        mentoring_case=_first(select(MentoringCase.id).order_by(MentoringCase.id)),
        own_mentoring_case=_own_mentoring_case(company),
        taught_course=taught[0],
        session=taught[1],
        instructor=instructor.id,
        meeting=_first(select(InstructorMeeting.id).order_by(InstructorMeeting.id)),
        mail_message=_first(select(OutboxMessage.id).order_by(OutboxMessage.id)),
        **_voice(),
    )


def _voice() -> dict:
    """The voice desk's demo item (None fields while the demo has none)."""
    item = db.session.execute(select(VoiceItem).order_by(VoiceItem.id).limit(1)).scalar()
    return {"voice_token": item.token, "voice_item": item.id} if item else {}


def _own_mentoring_case(contact: User) -> int:
    """The company contact's own case (the demo's case is another company's)."""
    case = _first(select(MentoringCase.id).where(MentoringCase.company_id == contact.company_id))
    if case is None:
        application = mentoring.Application(
            cp_status=CpStatus.NONE,
            needs=[MentoringNeed.CRITERIA],
            preferred_dates="월·수요일 오전",
            contact_name=contact.name,
            contact_phone="031-555-0100",
            contact_email=contact.email,
        )
        case = mentoring.apply(application, by=contact).id
        db.session.commit()
    return case


def _local(moment):
    return to_local(moment).replace(hour=10, minute=0, second=0, microsecond=0, tzinfo=None)


# --- axe ----------------------------------------------------------------------------------


def route_exists(app: Flask, path: str) -> bool:
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(path.split("?", 1)[0], method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    except RequestRedirect:
        return True
    return True


def pages_for(app: Flask, role: str, data: DemoData) -> tuple[list[tuple[str, Page]], list[str]]:
    """((path, row) to visit, optional paths skipped for want of a route) for one role."""
    fields = asdict(data)
    visit, skipped = [], []
    for page in PAGES:
        if role not in page.roles:
            continue
        wanted = re.findall(r"\{(\w+)\}", page.path)
        path = page.path.format(**fields)
        if page.optional and (
            any(fields[name] is None for name in wanted) or not route_exists(app, path)
        ):
            skipped.append(page.path)
        else:
            visit.append((path, page))
    return visit, skipped


def run_axe(page: BrowserPage) -> dict[str, list[dict]]:
    """axe's violations and its 'incomplete' results (what it could not decide, such as
    text over a gradient: for a person to look at), each with the elements found."""
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations'], iframes: false});
            const brief = list => list.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), impact: n.impact,
                                          summary: n.failureSummary}))
            }));
            return {violations: brief(result.violations), incomplete: brief(result.incomplete)};
        }"""
    )


def sign_in(page: BrowserPage, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.get_by_label("이메일", exact=True).fill(email)
    page.get_by_label("비밀번호", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="로그인", exact=True).click()
    expect(page.get_by_role("button", name="로그아웃", exact=True)).to_be_visible()


def describe(url: str, violation: dict) -> str:
    lines = [f"{violation['impact']:>8} {violation['id']}: {violation['help']}  ({url})"]
    for node in violation["nodes"][:8]:
        lines.append(f"           {node['target']}")
    if len(violation["nodes"]) > 8:
        lines.append(f"           … and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


def record_summary(
    role: str, counts: dict[str, int], review: dict[str, list[str]], pages: int, seconds: float
) -> None:
    summary = {}
    if SUMMARY.exists():
        try:
            summary = json.loads(SUMMARY.read_text())
        except ValueError:
            summary = {}
    summary[role] = {
        "pages": pages,
        "width": WIDTH,
        "seconds": round(seconds, 1),
        "violations": counts,
        "needs_review": review,
    }
    summary["total"] = {
        impact: sum(v["violations"].get(impact, 0) for k, v in summary.items() if k in ROLES)
        for impact in IMPACTS
    }
    SUMMARY.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")


# --- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_no_serious_or_critical_axe_violation(
    browser: Browser, app: Flask, live_server: str, demo: DemoData, role: str
) -> None:
    started = time.monotonic()
    paths, skipped = pages_for(app, role, demo)
    assert paths, role
    context = browser.new_context(
        locale="ko-KR", timezone_id="Asia/Seoul", viewport={"width": WIDTH, "height": 900}
    )
    # In every document the context opens, before the page's own scripts and outside its
    # CSP; half a second a page faster than `page.add_script_tag` for axe's 650 kB.
    context.add_init_script(path=str(AXE))
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    counts = dict.fromkeys(IMPACTS, 0)
    review: dict[str, list[str]] = {}
    failures, minor, broken = [], [], []
    try:
        if role in LOGINS:
            sign_in(page, live_server, LOGINS[role])
        for path, row in paths:
            response = page.goto(f"{live_server}{path}")
            status = response.status if response else 0
            if status != row.status:
                broken.append(f"{status} (not {row.status}) {path}")
            if row.submit:
                button = page.locator(row.submit).first
                button.evaluate("button => { button.form.noValidate = true; }")
                with page.expect_navigation():
                    button.click()
                path = f"{path} (submitted)"
            found = run_axe(page)
            for violation in found["violations"]:
                counts[violation["impact"]] += len(violation["nodes"])
                if violation["impact"] in FAILING_IMPACTS:
                    failures.append(describe(path, violation))
                else:
                    minor.append(describe(path, violation))
            for result in found["incomplete"]:
                if result["id"] == "frame-tested":  # a sandboxed frame: checked on its own
                    continue
                review.setdefault(result["id"], []).extend(
                    f"{path} {node['target']}" for node in result["nodes"]
                )
    finally:
        context.close()
    seconds = time.monotonic() - started
    record_summary(role, counts, review, len(paths), seconds)
    print(
        f"\naxe as {role}: {len(paths)} pages in {seconds:.1f}s, "
        + ", ".join(f"{n} {impact}" for impact, n in counts.items())
        + (f"; not built yet: {', '.join(skipped)}" if skipped else "")
        + "".join(f"\n  to review ({rule}): {', '.join(where)}" for rule, where in review.items())
        + "".join(f"\n{line}" for line in minor)
    )
    assert broken == [], f"pages that did not open as {role}: {broken}"
    assert failures == [], f"axe violations as {role}:\n" + "\n".join(failures)


def test_every_page_route_is_in_the_table(app: Flask) -> None:
    """A GET page added to the app is added here too, so that axe looks at it."""
    # Any value fills a placeholder: a number for an id, 32 letters for a token.
    fields = {
        name: 1 if str(field.type).startswith("int") else "a" * 32
        for name, field in DemoData.__dataclass_fields__.items()
    }
    patterns = [page.path.split("?", 1)[0].format(**fields) for page in PAGES]
    reached = set()
    adapter = app.url_map.bind("localhost")
    for path in patterns:
        try:
            endpoint, _ = adapter.match(path, method="GET")
        except (NotFound, MethodNotAllowed, RequestRedirect):
            continue
        reached.add(endpoint)
    missing = sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and rule.endpoint not in NOT_PAGES
        and rule.endpoint not in reached
        and not rule.endpoint.startswith("main.set_language")
    )
    assert missing == [], f"add a Page row (or a NOT_PAGES entry) for: {missing}"


def test_axe_finds_what_it_is_there_to_find(browser: Browser) -> None:
    """The check can fail: a control without a name and grey-on-white text are caught."""
    context = browser.new_context()
    context.add_init_script(path=str(AXE))
    try:
        page = context.new_page()
        page.set_content(
            '<html lang="ko"><head><title>t</title></head><body><main><h1>t</h1>'
            '<p style="color:#aaa;background:#fff">흐린 글자</p><input type="text">'
            "</main></body></html>"
        )
        found = {(v["id"], v["impact"]) for v in run_axe(page)["violations"]}
    finally:
        context.close()
    assert {("label", "critical"), ("color-contrast", "serious")} <= found, found


def test_axe_is_vendored_with_its_licence() -> None:
    assert AXE.read_text(encoding="utf-8").startswith("/*! axe v4.14.1")
    assert "Mozilla Public License" in (AXE.parent / "LICENSE-axe-core.txt").read_text()
