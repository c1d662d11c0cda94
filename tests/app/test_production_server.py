"""The production setup end to end: two gunicorn servers, each with two workers, against
one PostgreSQL database, and 40 learners racing for 10 seats through real HTTP.

Nothing is shared between the four processes but the database, as on several machines:
the seat count must hold there, not in any process's memory.
"""

from __future__ import annotations

import http.cookiejar
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.extensions import db
from courses.models import Course, Enrollment, EnrollmentStatus
from tests.conftest import CSRF_FIELD, POSTGRES_URL, free_port
from tests.factories import PASSWORD, make_course, make_user, publish_year

pytestmark = pytest.mark.skipif(
    not (POSTGRES_URL or "").startswith("postgresql"),
    reason="several server processes need a server database (TEST_DATABASE_URL=postgresql…)",
)

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
LEARNERS = 40
SEATS = 10
READY_TIMEOUT = 60


def wait_until_healthy(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn at {base} not healthy in {READY_TIMEOUT}s:\n{log.read_text()[-4000:]}")


@pytest.fixture
def servers(app, tmp_path: Path) -> Iterator[list[str]]:
    """Two gunicorn servers (`wsgi:app`, two workers each) on free loopback ports."""
    ports = [free_port(), free_port()]
    env = {
        **os.environ,
        "DATABASE_URL": POSTGRES_URL,
        "SECRET_KEY": "production-server-test-secret",
        # Loopback names are trusted on any port (app/core/links.py trusted_hosts), so one
        # BASE_URL serves both servers.
        "BASE_URL": f"http://127.0.0.1:{ports[0]}",
        "RATELIMIT_ENABLED": "0",
        "PUBLIC_PAGE_CACHE_SECONDS": "0",
        "MAIL_BACKEND": "log",
        "TRUSTED_PROXIES": "0",
    }
    env.pop("TEST_DATABASE_URL", None)
    processes: list[tuple[subprocess.Popen, Path]] = []
    try:
        for port in ports:
            log = tmp_path / f"gunicorn-{port}.log"
            with log.open("wb") as output:
                process = subprocess.Popen(
                    [str(GUNICORN), "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                    cwd=ROOT,
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            processes.append((process, log))
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, (process, log) in zip(bases, processes, strict=True):
            wait_until_healthy(base, process, log)
        yield bases
    finally:
        for process, _log in processes:
            if process.poll() is None:
                process.terminate()  # gunicorn's master stops its workers on SIGTERM
        for process, _log in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is the answer the test looks at


class Browser:
    """One person's browser: its own cookie jar; records every status, redirects included."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirects()
        )
        self.statuses: list[tuple[str, int]] = []

    def request(self, path: str, form: dict | None = None) -> str:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(f"{self.base}{path}", data=data, timeout=60) as response:
                self.statuses.append((path, response.status))
                return response.read().decode()
        except urllib.error.HTTPError as error:
            self.statuses.append((path, error.code))
            return error.read().decode(errors="replace")

    def csrf_token(self, page: str) -> str:
        match = CSRF_FIELD.search(page)
        assert match, f"no CSRF token on the page: {page[:500]}"
        return match.group(1)


def test_40_learners_over_two_gunicorn_servers_fill_10_seats_and_queue_30(app, request) -> None:
    starts = datetime.now() + timedelta(days=20)
    course_id = make_course(starts=starts, capacity=SEATS).id
    publish_year(starts.year)
    emails = [make_user(email=f"server-racer{n}@example.com").email for n in range(LEARNERS)]
    db.session.commit()
    bases = request.getfixturevalue("servers")  # started only once the data is committed

    barrier = threading.Barrier(LEARNERS)
    browsers = [Browser(bases[n % 2]) for n in range(LEARNERS)]
    failures: list[BaseException] = []

    def learner(index: int) -> None:
        browser = browsers[index]
        try:
            token = browser.csrf_token(browser.request("/auth/login"))
            browser.request(
                "/auth/login",
                {"csrf_token": token, "email": emails[index], "password": PASSWORD},
            )
            token = browser.csrf_token(browser.request(f"/courses/{course_id}"))
        except BaseException as error:
            barrier.abort()  # the others stop waiting and the test reports this error
            failures.append(error)
            raise
        barrier.wait(timeout=120)
        browser.request(f"/courses/{course_id}/enroll", {"csrf_token": token})

    threads = [threading.Thread(target=learner, args=(n,)) for n in range(LEARNERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert failures == []
    assert not any(thread.is_alive() for thread in threads)
    statuses = [status for browser in browsers for status in browser.statuses]
    assert [s for s in statuses if s[1] >= 500] == []
    # Each learner: the login page, signed in (302), the course page, enrolled or queued (302).
    expected = [
        ("/auth/login", 200),
        ("/auth/login", 302),
        (f"/courses/{course_id}", 200),
        (f"/courses/{course_id}/enroll", 302),
    ]
    assert [b.statuses for b in browsers] == [expected] * LEARNERS

    db.session.expire_all()
    assert db.session.get(Course, course_id).seats_taken == SEATS
    enrolments = (
        db.session.execute(select(Enrollment).where(Enrollment.course_id == course_id))
        .scalars()
        .all()
    )
    assert Counter(e.status for e in enrolments) == {
        EnrollmentStatus.ENROLLED: SEATS,
        EnrollmentStatus.WAITING: LEARNERS - SEATS,
    }
    per_learner = Counter(e.learner_id for e in enrolments)
    assert len(per_learner) == LEARNERS
    assert max(per_learner.values()) == 1
