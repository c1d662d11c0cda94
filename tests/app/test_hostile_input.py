"""Hostile input: random and malicious values at every form, URL and JSON endpoint, as every
role, never a 5xx, never a request over five seconds, and the seat and certificate rules hold.

Nothing here lists a route or a field by hand. The demo seed gives a realistic world (courses
with seats and a waiting list, enrolments, certificates, surveys, an on-site request, a
mentoring case, meetings), and a crawl as each role walks the pages from `app.url_map` with
real ids, following links, to learn every form (its action, its fields, their options) and
every real URL. Hypothesis then picks a route, a role and values for each field: a real
value from the page or a hostile one (control characters, NUL, line and paragraph
separators, 10 000 and 300 000 characters, huge and Unicode numbers, non-finite decimals,
dates out of range, formula prefixes, redirect tricks, invalid UTF-8, unknown ids). A route
added later is fuzzed without anyone remembering to add it here.

After each example: no 5xx (the app's error handler logs the exception; its last frame in
our code is in the failure message), no request over `LIMIT_SECONDS`, no redirect off the
site, seats_taken equals the seat holders and stays within capacity, nobody waits while a
seat is free, one enrolment per learner and course, one valid certificate per enrolment,
and the database still answers (a failed request was rolled back properly).

    .venv/bin/python -m pytest tests/app/test_hostile_input.py -s     # prints the counts
    HOSTILE_EXAMPLES=2000 .venv/bin/python -m pytest tests/app/test_hostile_input.py -s
    HOSTILE_COLLECT=/tmp/hostile.jsonl ...   # record every failure and go on (exploration)
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import signal
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import (
    AnyConverter,
    IntegerConverter,
    PathConverter,
    RequestRedirect,
    Rule,
    ValidationError,
)

from app.core.access import rule_for
from app.core.accounts.models import Role, User
from app.core.errors import DomainError
from app.core.extensions import db
from app.core.timeutil import local_today
from certificates.models import Certificate, CertificateStatus
from courses.models import Course, CourseStatus, Enrollment, EnrollmentStatus
from tests.conftest import CSRF_FIELD

ROOT = Path(__file__).resolve().parents[2]
ROLES: list[Role | None] = [None, Role.LEARNER, Role.COMPANY, Role.INSTRUCTOR, Role.STAFF]
LIMIT_SECONDS = 5.0
#: A request still running after this long is stopped, so that a hang fails instead of
#: blocking the run; anything over LIMIT_SECONDS fails anyway.
HARD_STOP_SECONDS = 20.0
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "0"))
COLLECT = os.environ.get("HOSTILE_COLLECT")
#: Pages whose answer is a file, not HTML: fuzzed, never crawled for forms.
FILE_RULE = re.compile(r"\.(pdf|ics|zip|xlsx|csv|json|atom)$|\):fmt>$")
ARGUMENT = re.compile(r"<(?:([a-zA-Z_]+)(?:\([^)]*\))?:)?([a-zA-Z_]+)>")
#: Per role and endpoint, how many real URLs the crawl keeps.
PER_ENDPOINT = 8
#: An account the forms may name (sign in as, add to a roster, register again); none of the
#: visitors signs in with it, so that a lock-out or a deletion costs the fuzzing nothing.
FUZZ_EMAIL, FUZZ_PASSWORD = "fuzzer@example.com", "correct horse battery staple"
#: The forms test opens every page again after this many examples (see sweep()).
SWEEP_EVERY = int(os.environ.get("HOSTILE_SWEEP_EVERY", "400"))
#: Query parameters worth trying on any page, besides those its forms and links use.
COMMON_QUERY = [
    *("year", "next", "page", "q", "sort", "status", "kind", "lang", "month", "id"),
    *("_external", "_scheme", "_anchor", "_method", "endpoint", "values", "course_id"),
]

counts: Counter[str] = Counter()


# --- Hostile values ----------------------------------------------------------------------


class Big(str):
    """A long value that prints short in a failure report."""

    def __repr__(self) -> str:
        return f"({self[:8]!r} ... {len(self)} chars)"


class Raw(bytes):
    """Bytes sent as they are (percent-encoded) in a form body: invalid UTF-8 and the like."""


def big(piece: str, length: int) -> Big:
    return Big((piece * (length // len(piece) + 1))[:length])


SPECIAL = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "\n",
    "\t",
    "\x0b\x0c",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\u202e",
    "\ufeff",
    "\u200b",
    "e\u0301",
    "👩‍💻",
    "\U0001d7d8",
    # numbers
    "0",
    "-1",
    "-0",
    "+1",
    "1.5",
    "1,000",
    "1_000",
    "0x10",
    " 12 ",
    "2147483647",
    "2147483648",
    "-2147483649",
    str(2**53 + 1),
    str(2**63),
    str(2**64),
    str(10**20),
    "1e400",
    "-1e400",
    "1e-400",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "²",
    "١٢",
    "５",
    "１２３",
    "٣٠",
    "⑤",
    "Ⅻ",
    # dates and times
    "0001-01-01",
    "0000-00-00",
    "1970-01-01",
    "1999-12-31",
    "2027-02-30",
    "2027-13-01",
    "2100-12-31",
    "2101-01-01",
    "9999-12-31",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "2027-03-10T24:00",
    "2027-03-10T10:00:00+09:00",
    "10000-01-01",
    "-2027-01-01",
    "2027-W10",
    "25:00",
    "23:59:60",
    "2026H1",
    "2026H3",
    "9999H1",
    # spreadsheets, templates, markup, SQL
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("https://evil.example")',
    "+1+1",
    "@SUM(1)",
    "-2+3",
    "\t=1",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7 * 7 }}",
    "{% debug %}",
    "%s%s%s%n",
    "%(name)s",
    "' OR 1=1 --",
    "'; DROP TABLE users; --",
    "\\",
    "%",
    "_",
    "../../../etc/passwd",
    "None",
    "null",
    "true",
    "[]",
    "{}",
    # redirects
    "/\t/evil.example",
    "//evil.example",
    "\\\\evil",
    "/\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/%2F%2Fevil.example",
    "///evil.example",
    " //evil.example",
    "/\r\nLocation: https://evil.example",
    # addresses (none of the accounts the test signs in with)
    "a@b",
    "@",
    "a@b@c",
    "learner05@example.com",
    "LEARNER05@EXAMPLE.COM",
    "newsletter1@example.com",
    "x@example.com\r\nBcc: victim@evil.example",
    "user@ＥＸＡＭＰＬＥ.com",
    '"a b"@example.com',
    "홍길동@예시.한국",
    big("a", 300) + "@example.com",
    # just inside the edge, past a column's length or a NUMERIC's precision
    "99999",
    "100000",
    "999999999",
    "1000000000",
    "-2147483648",
    "0.01",
    "0.05",
    "12345.6",
    "99999.9",
    "123456789.5",
    "1e5",
    "1E+8",
    "5e-324",
    "2000-01-01",
    "2000-01-01T00:00",
    "2100-12-31T23:59",
    "2020-02-29",
    "1999-12-31T23:59",
    *(big(piece, n) for n in (21, 51, 65, 101, 201, 256, 501, 1001, 2000) for piece in "a가"),
    big("가\n", 99_999),
    big("a", 100_000),
    big("1", 19),
    # long
    big("가", 2_001),
    big("x", 10_000),
    big("9", 5_000),
    big("a\x00", 5_000),
    big("a", 300_000),
    big("가", 100_000),
    big("line\n", 30_000),
]

#: Path segments for URL arguments; each is percent-encoded when it is put in a URL.
SEGMENTS = [
    "0",
    "-1",
    "00001",
    "+1",
    "1.0",
    "1e3",
    "2147483647",
    "2147483648",
    str(2**63 - 1),
    str(2**63),
    str(2**64),
    str(10**20),
    "abc",
    "١٢",
    "５",
    "²",
    "\x00",
    "a\x00",
    "\n",
    "\x7f",
    "\u202e",
    "%",
    "%00",
    "..",
    ".",
    "'",
    "a b",
    "?",
    "#",
    "\\",
    "가",
    big("a", 255),
    big("a", 256),
    big("a", 10_000),
    "pdf",
    "exe",
    "PDF",
    "CSV",
    "en",
    "xx",
    "post_course",
    "start",
]

#: Invalid UTF-8 and other bytes that no text field encodes to.
RAW = [Raw(b"\xff\xfe"), Raw(b"\xc0\xaf"), Raw(b"\xed\xa0\x80"), Raw(b"a\x00b"), Raw(b"\x80")]

FILENAMES = [
    "material.pdf",
    "addresses.csv",
    "ADDRESSES.CSV",
    "list.txt",
    "../../etc/passwd",
    "a\x00.pdf",
    "..",
    "",
    "한글 자료.pdf",
    "=cmd.csv",
    "x.pdf\r\nContent-Type: text/html",
    big("a", 1_000) + ".pdf",
    "evil.exe",
    "no-extension",
    ".htaccess",
]


def hostile_text() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(SPECIAL),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
        st.text(st.characters(categories=("Cc", "Cf", "Zl", "Zp", "Zs")), min_size=1, max_size=4),
        st.integers().map(str),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.floats().map(repr),
        st.dates().map(lambda day: day.isoformat()),
        st.datetimes().map(lambda moment: moment.isoformat(timespec="minutes")),
        st.sampled_from(RAW),
    )


def segment_values() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(SEGMENTS),
        st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12),
        st.integers().map(str),
    )


OMIT = object()


# --- Pages and forms ---------------------------------------------------------------------


@dataclass
class FormField:
    name: str
    kind: str
    values: list[str] = field(default_factory=list)
    multiple: bool = False
    #: What the page has selected or checked (the current state, on an edit form).
    current: list[str] = field(default_factory=list)


@dataclass
class ParsedForm:
    action: str
    method: str
    multipart: bool
    fields: dict[str, FormField] = field(default_factory=dict)

    def add(self, name: str, kind: str) -> FormField:
        found = self.fields.get(name)
        if found is None:
            found = self.fields[name] = FormField(name, kind)
        elif kind in ("checkbox", "select-multiple") or found.kind == "checkbox":
            found.multiple = True
        return found


class PageParser(HTMLParser):
    """The links and forms of a page, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[ParsedForm] = []
        self._form: ParsedForm | None = None
        self._text: FormField | None = None
        self._option: FormField | None = None
        self._select: FormField | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag in ("a", "link") and a.get("href"):
            self.links.append(a["href"])
        if tag == "form":
            self._form = ParsedForm(
                action=a.get("action", ""),
                method=(a.get("method") or "get").upper(),
                multipart="multipart" in a.get("enctype", ""),
            )
            self.forms.append(self._form)
            return
        if self._form is None or not a.get("name"):
            if tag == "option" and self._select is not None:
                self._option_start(a)
            return
        if tag in ("input", "button"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            found = self._form.add(a["name"], kind)
            if kind == "file":
                self._form.multipart = True
            if "value" in a:
                found.values.append(a["value"])
            elif kind in ("checkbox", "radio"):
                found.values.append("on")
            if kind in ("checkbox", "radio") and "checked" in a:
                found.current.append(found.values[-1])
            if kind == "checkbox":
                found.multiple = True
        elif tag == "select":
            self._select = self._form.add(a["name"], "select")
            self._select.multiple = self._select.multiple or "multiple" in a
        elif tag == "textarea":
            self._text = self._form.add(a["name"], "textarea")
            self._text.values.append("")

    def _option_start(self, a: dict[str, str]) -> None:
        if "value" in a:
            self._select.values.append(a["value"])
            if "selected" in a:
                self._select.current.append(a["value"])
        else:
            self._option = self._select
            self._select.values.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._text is not None:  # as a browser does: one newline after <textarea>
                first = self._text.values[-1]
                self._text.values[-1] = first.removeprefix("\r").removeprefix("\n")
            self._text = None
        elif tag == "option":
            self._option = None

    def handle_data(self, data: str) -> None:
        target = self._text or self._option
        if target is not None and target.values:
            target.values[-1] += data if self._text else data.strip()


@dataclass
class FormSpec:
    role: Role | None
    endpoint: str
    path: str
    multipart: bool
    fields: dict[str, FormField]


@dataclass
class Seen:
    role: Role | None
    path: str
    args: dict


@dataclass(repr=False)
class World:
    app: Flask
    visitors: dict
    rules: dict[str, Rule]
    forms: dict[str, list[FormSpec]] = field(default_factory=dict)
    #: GET forms (search and filter forms), by the endpoint they submit to.
    searches: dict[str, list[FormSpec]] = field(default_factory=dict)
    urls: dict[str, list[Seen]] = field(default_factory=dict)
    query_names: dict[str, set[str]] = field(default_factory=dict)
    query_values: set[str] = field(default_factory=set)
    field_names: set[str] = field(default_factory=set)
    real_segments: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<World: {len(self.rules)} routes, {len(self.forms)} with forms>"

    def _repr_pretty_(self, printer, cycle) -> None:  # what Hypothesis prints of a failure
        printer.text(repr(self))

    def post_endpoints(self) -> list[str]:
        return sorted(e for e, rule in self.rules.items() if "POST" in (rule.methods or ()))

    def all_cases(self) -> list[tuple[str, str]]:
        """(endpoint, method) of every route but static files."""
        return sorted(
            (endpoint, method)
            for endpoint, rule in self.rules.items()
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
        )

    def allowed_roles(self, endpoint: str) -> list[Role | None]:
        rule = rule_for(self.app, endpoint)
        allowed = [role for role in ROLES if rule is not None and rule.allows(_Person(role))]
        return allowed or ROLES


class _Person:
    def __init__(self, role: Role | None) -> None:
        self.role = role
        self.is_authenticated = role is not None


# --- Requests and what counts as a failure -----------------------------------------------


class RequestTimedOut(BaseException):
    """Raised into a request that ran past HARD_STOP_SECONDS (not an Exception: the app's
    error handler must not turn it into a page)."""


@contextmanager
def hard_stop(seconds: float) -> Iterator[None]:
    def stop(signum, frame):
        raise RequestTimedOut(f"still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class ErrorLog(logging.Handler):
    """Keeps the exceptions the app's error handler logs, with their tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


def where(error: BaseException) -> dict:
    """The exception's type, message and its last frame in our code."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [
        frame
        for frame in frames
        if frame.filename.startswith(str(ROOT))
        and "/.venv/" not in frame.filename
        and "/tests/" not in frame.filename
    ]
    root = error
    while root.__cause__ is not None or root.__context__ is not None:
        root = root.__cause__ or root.__context__
    last = ours[-1] if ours else (frames[-1] if frames else None)
    place = "?"
    if last is not None:
        path = Path(last.filename)
        place = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{last.lineno}"
        place += f" in {last.name}"
    return {
        "exception": f"{type(error).__module__}.{type(error).__qualname__}",
        "message": _first_line(error, 300),
        "root": f"{type(root).__qualname__}: {_first_line(root, 200)}",
        "app_frame": place,
    }


def _first_line(error: BaseException, limit: int) -> str:
    lines = str(error).splitlines()
    return lines[0][:limit] if lines else ""


def shown(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(shown(item) for item in value) + "]"
    if isinstance(value, tuple):  # a file
        return f"<file {value[1]!r}, {len(value[0])} bytes>"
    text_ = repr(value)
    return text_ if len(text_) <= 120 else text_[:100] + f"... ({len(text_)} chars)"


class Failures:
    """Fails the test at the first problem, or (HOSTILE_COLLECT=file) records it and goes on."""

    def __init__(self, test: str) -> None:
        self.test = test

    def __call__(self, problem: str, case: dict, **details) -> None:
        counts["failures"] += 1
        if COLLECT:
            with open(COLLECT, "a", encoding="utf-8") as out:
                row = {"test": self.test, "problem": problem, **case, **details}
                out.write(json.dumps(row, ensure_ascii=False, default=shown) + "\n")
            return
        lines = [problem, *(f"  {key}: {value}" for key, value in {**case, **details}.items())]
        raise AssertionError("\n".join(lines))


class Visitor:
    """A browser signed in as one demo account of a role (anonymous for None)."""

    def __init__(self, app: Flask, role: Role | None, emails: list[str], password: str) -> None:
        self.app, self.role, self.emails, self.password = app, role, emails, password
        self.sign_in()

    def sign_in(self) -> None:
        for email in self.emails or [None]:
            self.client = self.app.test_client()
            self.token = self._token()
            if email is None:
                break
            response = self.client.post(
                "/auth/login",
                data={"csrf_token": self.token, "email": email, "password": self.password},
            )
            counts["requests"] += 2
            if response.status_code == 302:
                self.token = self._token()
                break
        else:
            raise AssertionError(f"no {self.role} account can sign in any more: {self.emails}")
        self.state = self._state()

    def _token(self) -> str:
        page = self.client.get("/auth/login").get_data(as_text=True)
        match = CSRF_FIELD.search(page)
        assert match, "no CSRF token on the sign-in page"
        return match.group(1)

    def _state(self) -> tuple:
        cookie = self.client.get_cookie(self.app.config["SESSION_COOKIE_NAME"])
        if cookie is None:
            return (None, None)
        data = self.app.session_interface.get_signing_serializer(self.app).loads(cookie.value)
        return (data.get("_user_id"), data.get("csrf_token"))

    def still_signed_in(self) -> None:
        """After a request that signed out, changed the session or broke it: start again."""
        try:
            state = self._state()
        except Exception:
            state = None
        if state != self.state or (self.role is not None and not state[0]):
            self.sign_in()


def send(
    world: World,
    fail: Failures,
    visitor: Visitor,
    method: str,
    path: str,
    case: dict,
    *,
    query: list | None = None,
    form: list | None = None,
    multipart: bool = False,
    headers: dict | None = None,
):
    """One request; a 5xx, an exception, a slow answer or a redirect off the site fails."""
    log: ErrorLog = world.app.extensions["hostile_error_log"]
    log.records.clear()
    url = path + ("?" + urlencode(_encoded(query), doseq=True) if query else "")
    kwargs: dict = {"method": method, "headers": headers or {}}
    if form is not None:
        if multipart:
            kwargs["data"] = MultiDict(
                [(k, v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in form]
            )
            kwargs["content_type"] = "multipart/form-data"
        else:
            kwargs["data"] = urlencode(_encoded(form), doseq=True)
            kwargs["content_type"] = "application/x-www-form-urlencoded"
    case = {"url": _short(url), **case}
    counts["requests"] += 1
    started = time.monotonic()
    try:
        with hard_stop(HARD_STOP_SECONDS):
            response = visitor.client.open(url, **kwargs)
    except RequestTimedOut as error:
        fail("hang", case, seconds=HARD_STOP_SECONDS, **where(error))
        return None
    except Exception as error:
        fail("exception", case, **where(error))
        return None
    elapsed = time.monotonic() - started
    counts[f"answered {response.status_code // 100}xx"] += 1
    if os.environ.get("HOSTILE_TRACE"):  # a file: one line per request, to see what ran
        with open(os.environ["HOSTILE_TRACE"], "a", encoding="utf-8") as out:
            row = {"status": response.status_code, "seconds": round(elapsed, 3), **case}
            out.write(json.dumps(row, ensure_ascii=False, default=shown) + "\n")
    if response.status_code >= 500:
        details = where(log.records[-1].exc_info[1]) if log.records else {}
        fail(f"status {response.status_code}", case, **details)
    if elapsed > LIMIT_SECONDS:
        fail("slow", case, seconds=round(elapsed, 2), status=response.status_code)
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location", "")
        parts = urlsplit(location)
        if (
            parts.netloc not in ("", "localhost")
            or location.startswith(("//", "/\\"))
            or any(ord(char) < 0x20 for char in location)
        ):
            fail("redirect off the site", case, location=location)
    return response


def _encoded(pairs: list) -> list:
    return [(k, bytes(v) if isinstance(v, Raw) else v) for k, v in pairs]


def _short(url: str) -> str:
    return url if len(url) <= 200 else url[:180] + f"... ({len(url)} chars)"


# --- Invariants --------------------------------------------------------------------------


def check_invariants(world: World, fail: Failures, case: dict) -> None:
    counts["invariant checks"] += 1
    problems = []
    holders = (
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.course_id == Course.id, Enrollment.status == EnrollmentStatus.ENROLLED)
        .scalar_subquery()
    )
    waiting = (
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.course_id == Course.id, Enrollment.status == EnrollmentStatus.WAITING)
        .scalar_subquery()
    )
    try:
        for course_id, capacity, taken, held, queued, status, closed in db.session.execute(
            select(
                Course.id,
                Course.capacity,
                Course.seats_taken,
                holders,
                waiting,
                Course.status,
                Course.closed_at,
            )
        ):
            if taken != held or not 0 <= taken <= capacity:
                problems.append(
                    f"course {course_id}: seats_taken {taken}, {held} seat holders, "
                    f"capacity {capacity}"
                )
            if queued and taken < capacity and status == CourseStatus.PUBLISHED and not closed:
                problems.append(f"course {course_id}: {queued} waiting, {capacity - taken} free")
        for course_id, learner_id, n in db.session.execute(
            select(Enrollment.course_id, Enrollment.learner_id, func.count())
            .group_by(Enrollment.course_id, Enrollment.learner_id)
            .having(func.count() > 1)
        ):
            problems.append(f"learner {learner_id} enrolled {n} times in course {course_id}")
        for enrollment_id, n in db.session.execute(
            select(Certificate.enrollment_id, func.count())
            .where(Certificate.status == CertificateStatus.VALID)
            .group_by(Certificate.enrollment_id)
            .having(func.count() > 1)
        ):
            problems.append(f"enrolment {enrollment_id} has {n} valid certificates")
        for enrollment_id in db.session.execute(
            select(Certificate.enrollment_id)
            .join(Enrollment, Enrollment.id == Certificate.enrollment_id)
            .where(Certificate.status == CertificateStatus.VALID)
            .where(Enrollment.completed.is_not(True))
        ).scalars():
            problems.append(f"valid certificate for enrolment {enrollment_id}, not completed")
        db.session.execute(text("SELECT 1"))
    except Exception as error:
        fail("database unusable after the request", case, **where(error))
    finally:
        db.session.rollback()
    for problem in problems:
        fail(f"invariant broken: {problem}", case)
    health = send(world, fail, world.visitors[None], "GET", "/healthz", {"after": case})
    if health is not None and health.status_code != 200:
        fail("the app's database connection is broken", case, status=health.status_code)


# --- The world ---------------------------------------------------------------------------


def build_world(app: Flask) -> World:
    """The demo year, a few more rows every route needs, and a crawl as every role."""
    from app import demo
    from app.core.accounts import services as accounts

    demo.seed()
    accounts.create_user(
        email=FUZZ_EMAIL,
        name="퍼저",
        password=FUZZ_PASSWORD,
        role=Role.LEARNER,
        email_verified=True,
    )
    db.session.commit()
    issued = _extra_rows()
    log = ErrorLog()
    app.logger.addHandler(log)
    app.extensions["hostile_error_log"] = log
    emails = _emails_by_role(demo)
    visitors = {role: Visitor(app, role, emails[role], demo.DEMO_PASSWORD) for role in ROLES}
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    world = World(app=app, visitors=visitors, rules=rules)
    world.real_segments = _real_segments(app, issued)
    start = ["/", *_mailed_paths(), *_token_paths(world), *_database_paths(world)]
    for role in ROLES:
        _crawl(world, visitors[role], start)
    db.session.rollback()
    return world


def _emails_by_role(demo) -> dict:
    """The demo's logins first, then the other accounts of the role (if one gets locked)."""
    preferred = {
        Role.STAFF: demo.STAFF[0][0],
        Role.INSTRUCTOR: demo.INSTRUCTORS[0][0],
        Role.COMPANY: demo.COMPANIES[0][4],
        Role.LEARNER: "learner@example.com",
    }
    emails: dict = {None: []}
    for role in Role:
        others = db.session.execute(
            select(User.email).where(User.role == role).order_by(User.id)
        ).scalars()
        start = preferred[role]
        emails[role] = [start, *(email for email in others if email != start)]
    return emails


def _extra_rows() -> list[str]:
    """Rows the demo does not make: a quote, a material, company invitations, account links
    (their raw tokens are returned: only hashes are stored). Best effort: a refusal only
    means one fewer real URL to fuzz."""
    from app.core.accounts import services as accounts
    from app.core.accounts.models import TokenPurpose
    from courses import invitations
    from courses import services as courses
    from visits import services as visits
    from visits.models import OnsiteRequest

    staff = db.session.execute(select(User).where(User.role == Role.STAFF)).scalars().first()
    contact = db.session.execute(
        select(User).where(User.email == "company@example.com")
    ).scalar_one_or_none()
    upcoming = courses.upcoming_courses(limit=3)
    issued: list[str] = []
    steps = [
        lambda: [
            visits.add_quote(request, [("강의료", 500_000), ("교재", 30_000)], by=staff)
            for request in db.session.execute(select(OnsiteRequest)).scalars()
        ],
        lambda: courses.add_material(
            upcoming[0], title="교재", filename="교재.pdf", data=b"%PDF-1.4\n", by=staff
        ),
        lambda: invitations.invite_employees(
            upcoming[-1], contact, ["invitee1@example.com", "invitee2@example.com"]
        ),
        lambda: issued.extend(
            accounts.issue_token(user, purpose)
            for user in db.session.execute(
                select(User).where(User.email.like("learner1%")).order_by(User.id)
            ).scalars()
            for purpose in TokenPurpose
        ),
    ]
    for step in steps:
        try:
            step()
            db.session.commit()
        except (DomainError, LookupError, AttributeError, TypeError):
            db.session.rollback()
    return issued


def _real_segments(app: Flask, issued: list[str]) -> dict[str, dict[str, list[str]]]:
    """For each string argument name (`token`, `serial`, `code`…), by source: the values of
    every column of that name or suffix, and the account tokens issued above."""
    names = {
        name
        for rule in app.url_map.iter_rules()
        for name, converter in rule._converters.items()
        if not isinstance(converter, IntegerConverter | AnyConverter | PathConverter)
    }
    found: dict[str, dict[str, list[str]]] = {name: {} for name in names}
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            for name in names:
                if column.name.endswith("_hash"):
                    continue
                if column.name == name or column.name.endswith("_" + name):
                    found[name][f"{table.name}.{column.name}"] = [
                        str(value)
                        for value in db.session.execute(
                            select(column).where(column.is_not(None)).limit(20)
                        ).scalars()
                    ]
    for name in names:
        found[name]["issued"] = issued
    return found


def _mailed_paths() -> list[str]:
    """Every link to the site in the outbox: the real tokens of survey invitations, sign-up
    confirmations, company invitations…"""
    from app.core.outbox import OutboxMessage

    paths = []
    for body in db.session.execute(select(OutboxMessage.body)).scalars():
        for link in re.findall(r"https?://localhost(/[^\s\"'<>]*)", body or ""):
            paths.append(link.rstrip(".,)"))
    return sorted(set(paths))


def _token_paths(world: World) -> list[str]:
    """For each GET route taking a string argument, a URL with a real value: the first
    value of each source that the route answers with 200 (anonymous or as staff)."""
    paths = []
    for _endpoint, rule in sorted(world.rules.items()):
        names = [n for n in rule._converters if world.real_segments.get(n)]
        if not names or "GET" not in (rule.methods or ()):
            continue
        for source in sorted({s for n in names for s in world.real_segments[n]}):
            values = {
                name: (
                    quote(world.real_segments[name][source][0], safe="")
                    if world.real_segments.get(name, {}).get(source)
                    else _real_argument(world, name, converter)
                )
                for name, converter in rule._converters.items()
            }
            path = fill(rule, values)
            for role in (None, Role.STAFF):
                counts["crawl requests"] += 1
                if world.visitors[role].client.get(path).status_code == 200:
                    paths.append(path)
                    break
    return paths


def _database_paths(world: World) -> list[str]:
    """One URL per GET route, with ids from the database (the newest row of the table the
    argument names)."""
    paths = []
    for _endpoint, rule in sorted(world.rules.items()):
        if "GET" not in (rule.methods or ()):
            continue
        values = {}
        for name, converter in rule._converters.items():
            values[name] = _real_argument(world, name, converter)
        paths.append(fill(rule, values))
    return paths


def _real_argument(world: World, name: str, converter) -> str:
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0] if hasattr(converter, "items") else "x"
    if isinstance(converter, IntegerConverter):
        return str(_newest_id(name))
    sources = world.real_segments.get(name) or {}
    values = sorted(v for found in sources.values() for v in found) or ["no-such-token"]
    return quote(values[0], safe="")


def _newest_id(name: str) -> int:
    if name == "year":
        return local_today().year
    stem = name.removesuffix("_id")
    plurals = {stem + "s", stem + "es", stem[:-1] + "ies"}
    for table in db.metadata.sorted_tables:
        if table.name in plurals or any(table.name.endswith("_" + p) for p in plurals):
            newest = db.session.execute(select(func.max(table.c.id))).scalar()
            if newest:
                return newest
    return 1


def fill(rule: Rule, values: dict[str, str]) -> str:
    """The rule's path with each argument replaced by an already URL-encoded value."""
    return ARGUMENT.sub(lambda m: values[m.group(2)], rule.rule)


def _crawl(world: World, visitor: Visitor, start: list[str]) -> None:
    adapter = world.app.url_map.bind("localhost")
    queue = list(start)
    taken: Counter[str] = Counter()
    visited: set[str] = set()
    while queue:
        path = queue.pop(0)
        if path in visited:
            continue
        visited.add(path)
        parts = urlsplit(path)
        matched = _match(adapter, parts.path, "GET")
        if matched is None:
            continue
        endpoint, args = matched
        if endpoint not in world.rules or taken[endpoint] >= PER_ENDPOINT:
            continue
        taken[endpoint] += 1
        _add_seen(world, endpoint, Seen(visitor.role, parts.path, args))
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            world.query_names.setdefault(endpoint, set()).add(name)
            world.query_values.add(value)
        if FILE_RULE.search(world.rules[endpoint].rule) or endpoint == "accounts.logout":
            continue
        counts["crawl requests"] += 1
        response = visitor.client.get(path)
        visitor.still_signed_in()
        if not response.content_type.startswith("text/html") or response.status_code != 200:
            continue
        for link in learn_page(world, visitor.role, path, response):
            queue.append(link)


def learn_page(world: World, role, path: str, response) -> list[str]:
    """Learn the forms of an HTML page; its links to the site, in a random but repeatable
    order (six of forty courses should not all be past ones)."""
    if response is None or response.status_code != 200:
        return []
    if not response.content_type.startswith("text/html"):
        return []
    adapter = world.app.url_map.bind("localhost")
    parser = PageParser()
    parser.feed(response.get_data(as_text=True))
    for form in parser.forms:
        _learn_form(world, adapter, role, path, form)
    links = []
    for href in parser.links:
        target = urlsplit(urljoin("http://localhost" + path, href))
        if target.netloc == "localhost":
            links.append(target.path + (f"?{target.query}" if target.query else ""))
    random.Random(path).shuffle(links)
    return links


def remember_url(world: World, role, path: str) -> None:
    """A page reached while fuzzing (a new course, a new request…) joins the real URLs."""
    matched = _match(world.app.url_map.bind("localhost"), urlsplit(path).path, "GET")
    if matched is None or matched[0] not in world.rules:
        return
    _add_seen(world, matched[0], Seen(role, urlsplit(path).path, matched[1]))


def _add_seen(world: World, endpoint: str, new: Seen) -> None:
    seen = world.urls.setdefault(endpoint, [])
    if not any(s.path == new.path and s.role == new.role for s in seen):
        seen.append(new)
        del seen[: max(0, len(seen) - 40)]


def _learn_form(world: World, adapter, role, page: str, form: ParsedForm) -> None:
    target = urlsplit(urljoin("http://localhost" + page, form.action or page))
    matched = _match(adapter, target.path, form.method)
    if matched is None:
        return
    endpoint, args = matched
    if endpoint not in world.rules:
        return
    fields = {n: f for n, f in form.fields.items() if n != "csrf_token"}
    world.field_names.update(fields)
    if form.method == "GET":
        world.query_names.setdefault(endpoint, set()).update(fields)
        world.query_values.update(v for f in fields.values() for v in f.values)
        searches = world.searches.setdefault(endpoint, [])
        if not any(spec.path == target.path for spec in searches):
            searches.append(FormSpec(role, endpoint, target.path, False, fields))
        return
    _add_seen(world, endpoint, Seen(role, target.path, args))
    specs = world.forms.setdefault(endpoint, [])
    for spec in specs:
        if spec.role == role and spec.path == target.path:
            for name, found in fields.items():
                spec.fields.setdefault(name, found)
            return
    specs.append(FormSpec(role, endpoint, target.path, form.multipart, fields))
    del specs[: max(0, len(specs) - 40)]


def _match(adapter, path: str, method: str):
    try:
        return adapter.match(unquote(path), method=method)
    except (HTTPException, RequestRedirect):
        return None


# --- Drawing a case ----------------------------------------------------------------------


def draw_role(data, world: World, endpoint: str) -> Role | None:
    return data.draw(
        st.one_of(st.sampled_from(world.allowed_roles(endpoint)), st.sampled_from(ROLES)),
        label="role",
    )


def plausible(found: FormField, seed: int, day: int) -> object:
    """What a person would type: the page's own value or option (mostly the one it has
    selected), else a value of the field's type, so that the hostile values sit among
    fields that pass. `day` is the same for every field of one example."""
    if found.current and seed % 3:
        return pick(found.current, seed)
    if found.kind in ("select", "radio", "checkbox", "hidden", "submit") or any(
        v.strip() for v in found.values
    ):
        return pick(found.values or [""], seed)
    name, soon = found.name.lower(), local_today() + timedelta(days=30 + day % 60)
    if found.kind == "file":
        return (b"%PDF-1.4\n%hostile\n", "자료.pdf")
    if found.kind == "datetime-local":
        return f"{soon.isoformat()}T{'17:00' if 'end' in name else '10:00'}"
    if found.kind == "date" or name.startswith(("due", "deadline")) or name.endswith("_on"):
        return soon.isoformat()
    if found.kind == "time":
        return "10:00"
    for hint, values in NUMBER_HINTS.items():
        if hint in name:
            return pick(values, seed)
    if found.kind == "number":
        return pick(["1", "3", "10", "20"], seed)
    if found.kind == "email" or "email" in name:
        return FUZZ_EMAIL if seed % 4 == 0 else f"fuzz{seed}@example.com"
    if found.kind == "password" or "password" in name or name == "confirm":
        return FUZZ_PASSWORD
    if "phone" in name:
        return "02-555-0100"
    if "business_number" in name:
        return str(10**9 + seed * 7919)
    if found.kind == "textarea" or name == "addresses":
        return pick(["교육 내용을 적습니다.\n둘째 줄", f"fuzz{seed}@example.com"], seed)
    return pick(["시험 입력", "홍길동", "서울 강남구", "2"], seed)


NUMBER_HINTS = {
    "hours": ["6", "3"],
    "capacity": ["20", "1", "2"],
    "headcount": ["12", "30"],
    "fee": ["0", "50000"],
    "amount": ["100000", "0"],
    "position": ["1", "2"],
}


def pick(items: list, seed: int):
    return items[seed % len(items)]


#: Values at and past the bounds of each kind of field, beside hostile_text().
BOUNDARIES = {
    "number": [
        "0",
        "-1",
        "1",
        "2147483647",
        "2147483648",
        "-2147483648",
        "99999",
        "100000",
        "999999999",
        "1000000000",
        "0.01",
        "0.05",
        "0.5",
        "12345.6",
        "99999.9",
        "1e5",
        "NaN",
        "Infinity",
        "1e400",
        "",
        "１２",
        "²",
        "1.",
        ".5",
        "+5",
        "1_0",
    ],
    "date": [
        "2000-01-01",
        "2100-12-31",
        "1999-12-31",
        "2101-01-01",
        "0001-01-01",
        "9999-12-31",
        "2027-02-30",
        "",
        "2026-02-29",
        "2028-02-29",
        "20270310",
        "2027/03/10",
        "10-03-2027",
    ],
    "datetime-local": [
        "2000-01-01T00:00",
        "2100-12-31T23:59",
        "1999-12-31T23:59",
        "2101-01-01T00:00",
        "0001-01-01T00:00",
        "9999-12-31T23:59",
        "2027-03-10T24:00",
        "2027-03-10",
        "",
        "2027-03-10T10:00:00",
        "2027-03-10T10:00:00.000001",
        "2027-03-10 10:00",
        "2027-03-10T10:00Z",
        "2027-03-10T10:00+09:00",
    ],
}


FILE_CONTENTS = [
    b"",
    b"%PDF-1.4\n",
    b"\x00" * 1024,
    b"PK\x03\x04",
    b"a" * 70_000,
    b"email\r\nfuzz1@example.com\r\nfuzzer@example.com\r\n",
    b"\xef\xbb\xbfemail;name\rfuzz2@example.com;\xed\x99\x8d\r",
    "email\nfuzz3@example.com\n".encode("utf-16"),
    b"fuzz4@example.com,\x00,=cmd|' /C calc'!A0\n",
    b'"' + b"a" * 140_000 + b'@example.com"',
    b'"unterminated@example.com\n',
    b"\xff\xfe\xfd@example.com",
    b"\n".join(b"fuzz%d@example.com" % n for n in range(400)),
    b"a@" + b"b" * 300 + b".example.com",
]


#: Blank to the eye: `Optional()` and `strip()` take them for nothing, `in choices` does not.
BLANKS = ["", " ", "  ", "\u3000", "\u00a0", "\u2028", "\u2029", "\u2003", "\u200b", "\ufeff"]


def near_values(found: FormField) -> list[list]:
    """Values at and past the bounds of the field's kind, in groups (a group is picked
    first, so that a big group does not drown a small one)."""
    if found.kind == "file":
        return [[(body, name) for name in FILENAMES] for body in FILE_CONTENTS]
    groups = [BLANKS]
    if found.kind in BOUNDARIES:
        groups.append(BOUNDARIES[found.kind])
    elif found.name.lower().startswith(("amount", "position", "due", "deadline")):
        groups += [BOUNDARIES["number"], BOUNDARIES["date"]]
    elif found.kind in ("select", "radio", "checkbox", "hidden"):
        # Another row's id, an option spelt another way: what a forged form sends.
        groups.append(["0", "-1", *(str(n) for n in range(1, 80)), "2147483648", "on", "n"])
        groups.append([variant for option in found.values[:12] for variant in _spellings(option)])
    else:  # text: lengths just past what a column holds
        groups.append(
            [
                big(piece, n)
                for n in (21, 51, 65, 101, 201, 256, 301, 501, 1001, 2000)
                for piece in "a가"
            ]
        )
    return groups


def _spellings(option: str) -> list[str]:
    """An option as a forged or mangled form would send it."""
    return [
        *(option.upper(), f" {option}", f"{option} ", f"{option}\u00a0", option[:-1]),
        *(f"{option}\u200b", f"{option},{option}", f"{option}\x00"),
    ]


#: Seeds drawn per example: every choice that depends on what the world holds (which form,
#: which real URL, each field's fate and value) is a seed modulo the number of choices, so
#: that Hypothesis sees the same shape of data whatever the fuzzing added to the world.
SEEDS = 48


def plan() -> st.SearchStrategy:
    seed = st.integers(0, 2**16)
    return st.fixed_dictionaries(
        {
            "endpoint": seed,
            "role": seed,
            "form": seed,
            "chaos": st.integers(0, 4),
            "hostile count": st.integers(0, 3),
            "hostile fields": st.lists(seed, min_size=3, max_size=3),
            "hostile values": st.lists(hostile_text(), min_size=4, max_size=4),
            "seeds": st.lists(seed, min_size=SEEDS, max_size=SEEDS),
            "extra fields": st.lists(st.tuples(seed, hostile_text(), hostile_text()), max_size=3),
            "query": st.lists(st.tuples(seed, hostile_text()), max_size=2),
            "bad csrf": st.integers(0, 15),
            "csrf": hostile_text(),
        }
    )


def fields_from(
    plan_: dict, world: World, fields: dict[str, FormField], extra: list[str] | None = None
) -> list:
    """(name, value) pairs. Most examples keep every field plausible but one to three,
    which get hostile values (so that those reach the code behind the form's validation);
    some give every field a random fate (real, hostile, left out); some add fields the
    form does not have."""
    names = sorted(fields)
    seeds, hostile_values = plan_["seeds"], plan_["hostile values"]
    chaos = plan_["chaos"] == 4
    chosen = plan_["hostile fields"][: plan_["hostile count"]]
    hostile = {pick(names, n) for n in chosen} if names and not chaos else set()
    pairs: list = []
    for index, name in enumerate(names):
        found = fields[name]
        seed = seeds[index % SEEDS] + index
        fate = seed % 3 if chaos else (1 if name in hostile else 0)
        how_many = 1 + (seed // 7) % 3 if found.multiple and seed % 4 == 0 else 1
        if found.multiple and seed % 9 == 0:
            how_many = 0
        for k in range(how_many):
            value_seed = seeds[(index + k + 1) % SEEDS] + k
            if fate == 0:
                value = plausible(found, value_seed, seeds[0])
            elif fate == 2 or value_seed % 11 == 0:
                continue  # left out
            elif value_seed % 2:
                groups = near_values(found)
                value = pick(pick(groups, value_seed // 2), value_seed // (2 * len(groups)))
            else:
                value = pick(hostile_values, value_seed // 2)
            pairs.append((name, value))
    extra_names = extra or sorted(world.field_names - set(fields)) or ["x"]
    for seed, hostile_name, value in plan_["extra fields"]:
        pairs.append((pick(extra_names, seed) if seed % 3 else _text(hostile_name), value))
    return pairs


def _text(value: object) -> str:
    return value if isinstance(value, str) else "x"


def files_of(pairs: list) -> list:
    return [(k, (BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v) for k, v in pairs]


def draw_seen(data, world: World, endpoint: str, role) -> Seen | None:
    seen = world.urls.get(endpoint) or []
    mine = [s for s in seen if s.role == role] or seen
    return data.draw(st.sampled_from(mine), label="real url") if mine else None


def real_path(world: World, endpoint: str, seen: Seen | None) -> str:
    if seen is not None:
        return seen.path
    rule = world.rules[endpoint]
    return fill(
        rule, {name: _real_argument(world, name, c) for name, c in rule._converters.items()}
    )


def refused_by_converter(converter, value: str) -> bool:
    """True when the route's own converter cannot accept the value (so no view may run)."""
    if not re.fullmatch(converter.regex, value):
        return True
    try:
        converter.to_python(value)
    except ValidationError:
        return True
    return False


# --- The tests ---------------------------------------------------------------------------


def hostile_settings(default: int):
    return settings(
        max_examples=EXAMPLES or default,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


def check_the_fuzzing_reaches_the_app(world: World) -> None:
    """If the seed or the crawl stopped finding things, the tests would pass while fuzzing
    nothing."""
    posts = world.post_endpoints()
    with_form = [e for e in posts if world.forms.get(e)]
    assert len(with_form) >= len(posts) * 0.7, sorted(set(posts) - set(with_form))
    gets = [e for e, r in world.rules.items() if "GET" in (r.methods or ())]
    reached = [e for e in gets if world.urls.get(e)]
    assert len(reached) >= len(gets) * 0.9, sorted(set(gets) - set(reached))
    assert sum(len(s.fields) for specs in world.forms.values() for s in specs) > 100
    assert world.searches, "no search form found"


@pytest.fixture
def world(app: Flask) -> Iterator[World]:
    started = time.monotonic()
    before = Counter(counts)
    world = build_world(app)
    check_the_fuzzing_reaches_the_app(world)
    check_invariants(world, Failures("seed"), {"after": "seed"})
    yield world
    spent = Counter(counts)
    spent.subtract(before)
    print(
        f"\nhostile input: {spent['examples']} examples, {spent['requests']} requests, "
        f"{spent['crawl requests']} crawl requests, {spent['failures']} failures recorded, "
        f"{time.monotonic() - started:.0f} s, {spent['sweeps']} sweeps; answers: "
        + ", ".join(f"{spent[k]} {k[-3:]}" for k in sorted(spent) if k.startswith("answered"))
    )


@hostile_settings(default=350)
@given(data=st.data())
def test_hostile_form_posts_never_break_the_app(world: World, data) -> None:
    """Every POST route, as any role, with its page's fields real, hostile or left out."""
    fail = Failures("forms")
    counts["examples"] += 1
    p = data.draw(plan(), label="plan")
    endpoint = pick(world.post_endpoints(), p["endpoint"])
    allowed = world.allowed_roles(endpoint)
    role = pick(allowed, p["role"]) if p["role"] % 5 else pick(ROLES, p["role"] // 5)
    specs = world.forms.get(endpoint) or []
    mine = [s for s in specs if s.role == role] or specs
    spec = pick(mine, p["form"]) if mine else None
    if spec is not None:
        path = spec.path
    else:
        seen = world.urls.get(endpoint) or []
        seen = [s for s in seen if s.role == role] or seen
        path = real_path(world, endpoint, pick(seen, p["form"]) if seen else None)
    pairs = fields_from(p, world, spec.fields if spec else {})
    visitor = world.visitors[role]
    # Mostly the real token, so that the values get past the CSRF check to the form.
    if p["bad csrf"] < 15:
        pairs.insert(0, ("csrf_token", visitor.token))
    elif p["csrf"] != "":
        pairs.insert(0, ("csrf_token", p["csrf"]))
    multipart = bool(spec and spec.multipart)
    names = sorted((world.query_names.get(endpoint) or set()) | set(COMMON_QUERY))
    query = [(pick(names, seed), value) for seed, value in p["query"]]
    if query:
        path += "?" + urlencode(_encoded(query), doseq=True)
    case = {
        "method": "POST",
        "endpoint": endpoint,
        "role": role.value if role else "anonymous",
        "fields": {k: shown(v) for k, v in pairs if k != "csrf_token"},
    }
    response = send(
        world,
        fail,
        visitor,
        "POST",
        path,
        case,
        form=files_of(pairs)
        if multipart
        else [(k, v) for k, v in pairs if not isinstance(v, tuple)],
        multipart=multipart,
    )
    visitor.still_signed_in()
    follow(world, fail, visitor, path, response, case)
    check_invariants(world, fail, case)
    if counts["examples"] % SWEEP_EVERY == 0:
        sweep(world, fail, {"after": case})


def follow(world: World, fail: Failures, visitor: Visitor, path: str, response, case) -> None:
    """Open the page the answer leads to, as a browser would, and learn its forms: state the
    fuzzing made (an accepted request, a new course) brings forms no crawl saw."""
    learn_page(world, visitor.role, path, response)
    if response is None or response.status_code not in (301, 302, 303):
        return
    target = urlsplit(urljoin("http://localhost" + path, response.headers.get("Location", "")))
    if target.netloc not in ("", "localhost"):
        return
    page = target.path + (f"?{target.query}" if target.query else "")
    landed = send(world, fail, visitor, "GET", page, {"followed from": case})
    visitor.still_signed_in()
    if landed is not None and landed.status_code == 200:
        remember_url(world, visitor.role, page)
        learn_page(world, visitor.role, page, landed)


def sweep(world: World, fail: Failures, case: dict) -> None:
    """Every GET route (PDFs, feeds, exports included) as every role, on the newest real URL
    it has: what the fuzzing saved must not break a page that shows it, nor slow it down."""
    counts["sweeps"] += 1
    for role in ROLES:
        visitor = world.visitors[role]
        for endpoint in sorted(world.rules):
            if "GET" not in (world.rules[endpoint].methods or ()):
                continue
            if role not in world.allowed_roles(endpoint):
                continue
            seen = [s for s in world.urls.get(endpoint, []) if s.role in (role, None)]
            for one in seen[-2:]:
                response = send(world, fail, visitor, "GET", one.path, {"sweep": endpoint, **case})
                visitor.still_signed_in()
                learn_page(world, role, one.path, response)


@hostile_settings(default=300)
@given(data=st.data())
def test_hostile_query_strings_never_break_the_app(world: World, data) -> None:
    """Every GET route, as any role, with its search form's fields (the catalog filters…)
    plausible but for one to three hostile ones, and query parameters it does not expect."""
    fail = Failures("query")
    counts["examples"] += 1
    p = data.draw(plan(), label="plan")
    gets = sorted(e for e, r in world.rules.items() if "GET" in (r.methods or ()))
    # Half of the examples go to the routes with a search form: most of their code reads it.
    searched = sorted(world.searches) or gets
    endpoint = (
        pick(searched, p["endpoint"] // 2) if p["endpoint"] % 2 else pick(gets, p["endpoint"])
    )
    allowed = world.allowed_roles(endpoint)
    role = pick(allowed, p["role"]) if p["role"] % 5 else pick(ROLES, p["role"] // 5)
    specs = world.searches.get(endpoint) or []
    seen = world.urls.get(endpoint) or []
    seen = [s for s in seen if s.role == role] or seen
    path = real_path(world, endpoint, pick(seen, p["form"]) if seen else None)
    fields = dict(pick(specs, p["form"]).fields) if specs else {}
    names = sorted((world.query_names.get(endpoint) or set()) | set(COMMON_QUERY))
    if not fields or p["chaos"] == 3:
        chosen = {pick(names, n) for n in p["hostile fields"][: 1 + p["hostile count"]]}
        fields.update({n: FormField(n, "text") for n in chosen if n not in fields})
    query = fields_from(p, world, fields, extra=names)
    query = [(k, v) for k, v in query if not isinstance(v, tuple)]
    visitor = world.visitors[role]
    case = {
        "method": "GET",
        "endpoint": endpoint,
        "role": role.value if role else "anonymous",
        "query": {k: shown(v) for k, v in query},
    }
    send(world, fail, visitor, "GET", path, case, query=query)
    visitor.still_signed_in()
    check_invariants(world, fail, case)


@hostile_settings(default=300)
@given(data=st.data())
def test_hostile_url_arguments_never_break_the_app(world: World, data) -> None:
    """Every route and method, as any role, with hostile values in its path arguments: ids
    no row has, ids of another row, values the converter must refuse."""
    fail = Failures("urls")
    counts["examples"] += 1
    endpoint, method = data.draw(st.sampled_from(world.all_cases()), label="route")
    role = draw_role(data, world, endpoint)
    rule = world.rules[endpoint]
    seen = draw_seen(data, world, endpoint, role)
    values, refused = {}, []
    for name, converter in rule._converters.items():
        real = (
            quote(str(seen.args[name]), safe="")
            if seen and name in seen.args
            else _real_argument(world, name, converter)
        )
        raw = data.draw(st.one_of(st.just(None), segment_values()), label=f"<{name}>")
        if raw is None:
            values[name] = real
        else:
            values[name] = quote(raw, safe="")
            if "/" not in raw and refused_by_converter(converter, raw):
                refused.append(name)
    visitor = world.visitors[role]
    case = {
        "method": method,
        "endpoint": endpoint,
        "role": role.value if role else "anonymous",
        "arguments": {k: unquote(v) for k, v in values.items()},
    }
    form = [("csrf_token", visitor.token)] if method != "GET" else None
    response = send(world, fail, visitor, method, fill(rule, values), case, form=form)
    if response is not None and refused and 200 <= response.status_code < 300:
        fail(
            f"a value the converter refuses reached the view ({refused})",
            case,
            status=response.status_code,
        )
    visitor.still_signed_in()
    check_invariants(world, fail, case)


@hostile_settings(default=200)
@given(data=st.data())
def test_hostile_json_requests_get_json_answers(world: World, data) -> None:
    """The JSON endpoints (under /api/, and any page that answered JSON in the crawl): bad
    parameters, methods, paths and Accept headers get a JSON 4xx, never a 5xx."""
    fail = Failures("json")
    counts["examples"] += 1
    endpoints = sorted(
        e
        for e, rule in world.rules.items()
        if rule.rule.startswith("/api/") or rule.rule.endswith(".json") or e == "main.healthz"
    )
    assert any(world.rules[e].rule.startswith("/api/") for e in endpoints), "no /api/ route"
    endpoint = data.draw(st.sampled_from(endpoints), label="endpoint")
    role = draw_role(data, world, endpoint)
    path = real_path(world, endpoint, draw_seen(data, world, endpoint, role))
    suffix = data.draw(st.one_of(st.just(""), segment_values()), label="path suffix")
    if suffix:
        path = path.rstrip("/") + "/" + quote(suffix, safe="")
    method = data.draw(
        st.sampled_from(["GET", "GET", "GET", "POST", "PUT", "DELETE"]), label="method"
    )
    names = sorted((world.query_names.get(endpoint) or set()) | set(COMMON_QUERY))
    query = [
        (name, data.draw(hostile_text(), label=name))
        for name in data.draw(st.lists(st.sampled_from(names), max_size=3), label="query names")
    ]
    accept = data.draw(
        st.sampled_from(["", "application/json", "text/html", "*/*", "application/xml", "\x00"]),
        label="Accept",
    )
    headers = {"Accept": accept} if accept else {}
    visitor = world.visitors[role]
    case = {
        "method": method,
        "endpoint": endpoint,
        "role": role.value if role else "anonymous",
        "query": {k: shown(v) for k, v in query},
        "accept": accept,
    }
    response = send(world, fail, visitor, method, path, case, query=query, headers=headers)
    if response is not None and path.startswith("/api/"):
        if response.content_type != "application/json":
            fail(
                "an /api/ answer that is not JSON",
                case,
                status=response.status_code,
                content_type=response.content_type,
            )
        else:
            body = response.get_json(silent=True)
            if body is None:
                fail("an /api/ answer whose JSON does not parse", case)
            elif response.status_code >= 400 and "error" not in body:
                fail("an /api/ error without an error message", case, body=shown(body))
    visitor.still_signed_in()
    check_invariants(world, fail, case)
