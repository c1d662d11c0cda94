"""Benchmark: certificate PDFs (`certificates.services`), in bulk, one by one, and served.

Run from the repository root:  .venv/bin/python bench/bench_certificates.py

It builds its own throw-away SQLite database in a temporary directory with one closed course
(no survey required), 200 learners with Korean names who completed it, and their 200
certificates issued through `services.issue`. Then, in one process and in this order:

  first           the first render in the process: services.render([one]) before any other
                  PDF (font configuration, template compilation, WeasyPrint caches all cold)
  pdf_bytes,      services.pdf_bytes(c) for every certificate: renders one PDF and stores it,
    first         as the first download of each certificate does; this is also the warm-up
  single product  services.render([c]) for each certificate: verification URL, QR code
                  (segno), template, WeasyPrint
  single bare     WeasyPrint alone on that certificate's HTML (services.certificate_html([c]),
                  built before the timed runs), with the same base URL and the shared
                  FontConfiguration (app.pdf.font_configuration)
  single html     services.certificate_html([c]) alone: what the product adds to WeasyPrint
  bulk *          the same three for all 200 certificates in one document (one WeasyPrint
                  pass, 200 pages), as the course's all.pdf export renders them
  pdf_bytes,      services.pdf_bytes(c) again: serves the stored bytes (one SELECT)
    stored
  HTTP download   GET /certificates/<serial>.pdf through app.test_client() by the signed-in
                  holder, served from the stored PDF, whole body read

product/bare is the cost of everything CourseDesk adds around WeasyPrint; "overhead" is the
same as a percentage of WeasyPrint's own time. Product, bare and html runs alternate so that
drift on a busy machine hits them alike. Every run also records this process's CPU time
(time.process_time): the "by CPU time" ratios move far less when other jobs take turns on
the cores, which can skew the wall-clock ratio of a few long bulk runs. The singles make one
or two passes over all 200 certificates and the bulk runs two to five times, as the time
budgets allow. The script checks the PDFs (200 pages in bulk, 1 page for each single,
downloads equal to the stored bytes) and exits non-zero if a check fails.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Keep create_app from writing instance/secret_key in the checkout; nothing is signed here.
os.environ.setdefault("SECRET_KEY", "bench-not-a-secret")

import weasyprint  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app import create_app  # noqa: E402
from app.core.accounts.models import Role, User  # noqa: E402
from app.core.extensions import db  # noqa: E402
from app.core.pdf import font_configuration  # noqa: E402
from app.core.timeutil import to_local, utcnow  # noqa: E402
from app.core.vocabulary import Region  # noqa: E402
from certificates import services  # noqa: E402
from certificates.models import Certificate  # noqa: E402
from courses.models import (  # noqa: E402
    Audience,
    Course,
    CourseFormat,
    CourseStatus,
    Enrollment,
    EnrollmentStatus,
    SizeFocus,
)

CERTIFICATES = 200
SINGLE_PASSES = 2  # at most; each pass renders every certificate once each way
BULK_MIN_RUNS = 2
BULK_MAX_RUNS = 5
# Signing in costs one scrypt check (~0.1 s), so a sample of holders downloads repeatedly.
HOLDERS_SIGNED_IN = 20
DOWNLOAD_ROUNDS = 10
OVERHEAD_TARGET_PERCENT = 20.0
# Below this share of CPU time in the timed wall-clock time, the machine was busy elsewhere.
BUSY_BELOW_PERCENT = 90.0
# Stop repeating early rather than run for minutes on a slow or overloaded machine: another
# single pass or bulk run starts only if, at the pace so far, it ends within the budget.
SINGLE_TIME_BUDGET_S = 30.0
BULK_TIME_BUDGET_S = 40.0

SURNAMES = "김이박최정강조윤장임"
GIVEN_NAMES = (
    *("민준", "서연", "도윤", "하은", "지호", "서윤", "예준", "지우", "시우", "수아"),
    *("주원", "하린", "지훈", "지아", "건우", "서아", "우진", "윤서", "선우", "채원"),
)
ROWS = (
    "single product",
    "single bare",
    "single html only",
    "bulk product",
    "bulk bare",
    "bulk html only",
    "pdf_bytes, first (stores)",
    "pdf_bytes, stored",
    "HTTP download (holder)",
)
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')

T = TypeVar("T")


class CheckFailed(Exception):
    pass


@dataclass
class Results:
    samples: dict[str, list[float]] = field(default_factory=dict)  # wall-clock ms
    cpu: dict[str, list[float]] = field(default_factory=dict)  # this process's CPU ms
    first_ms: float = 0.0
    single_passes: int = 0
    bulk_kib: float = 0.0
    single_kib: float = 0.0

    def time(self, name: str, work: Callable[[], T]) -> T:
        """Run `work` once, recording its wall-clock time and its CPU time under `name`."""
        cpu_start = time.process_time()
        start = time.perf_counter()
        result = work()
        elapsed = time.perf_counter() - start
        cpu_elapsed = time.process_time() - cpu_start
        self.samples.setdefault(name, []).append(elapsed * 1000)
        self.cpu.setdefault(name, []).append(cpu_elapsed * 1000)
        return result

    def median(self, name: str, *, cpu: bool = False) -> float:
        return statistics.median((self.cpu if cpu else self.samples)[name])


@dataclass(frozen=True)
class Holder:
    email: str
    serial: str
    pdf: bytes


def timed(work: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = work()
    return (time.perf_counter() - start) * 1000, result


def page_count(pdf: bytes) -> int:
    return len(PdfReader(BytesIO(pdf)).pages)


def expect_pages(pdf: bytes, pages: int, what: str) -> None:
    found = page_count(pdf)
    if found != pages:
        raise CheckFailed(f"{what}: {found} pages, expected {pages}")


def main() -> int:
    password = secrets.token_urlsafe(16)
    results = Results()
    with tempfile.TemporaryDirectory(prefix="coursedesk-bench-") as tmp:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench-not-a-secret",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "RATELIMIT_ENABLED": False,
            }
        )
        try:
            with app.app_context():
                db.create_all()
                course_id = seed(password)
                db.session.remove()
            # Renders run inside a request, as the download and bulk-export views do; the
            # verification URL is then built from the request's host.
            base_url = app.config.get("BASE_URL", "http://127.0.0.1:5000")
            with app.test_request_context("/", base_url=base_url):
                holders = measure_rendering(app, course_id, results)
                db.session.remove()
            # Outside any app context: every test-client request gets its own, as in production.
            measure_downloads(app, holders, password, results)
        except CheckFailed as error:
            print(f"certificate check failed: {error}", file=sys.stderr)
            return 1
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    report(results)
    return 0


def korean_name(n: int) -> str:
    """김민준, 김서연, ..., 임채원: 200 distinct names, then they repeat."""
    surname = SURNAMES[n // len(GIVEN_NAMES) % len(SURNAMES)]
    return surname + GIVEN_NAMES[n % len(GIVEN_NAMES)]


def seed(password: str) -> int:
    """One staff member, one closed course and CERTIFICATES completed, certified learners."""
    staff = User(email="staff@example.com", name="김하늘", role=Role.STAFF)
    staff.set_password(password)  # scrypt once; the learners share the hash
    learners = [
        User(
            email=f"learner{n:03d}@example.com",
            name=korean_name(n),
            role=Role.LEARNER,
            password_hash=staff.password_hash,
        )
        for n in range(CERTIFICATES)
    ]
    db.session.add_all([staff, *learners])
    db.session.flush()

    starts_at = utcnow().replace(second=0, microsecond=0) - timedelta(days=10)
    ends_at = starts_at + timedelta(days=1, hours=7)
    course = Course(
        year=to_local(starts_at).year,
        title="전략물자 판정 실무 심화과정",
        summary="수출통제 제도의 기본을 익힙니다.",
        content="1교시 제도 개요\n2교시 판정 절차",
        audience=Audience.PRACTITIONERS,
        size_focus=SizeFocus.ALL,
        format=CourseFormat.CLASSROOM,
        region=Region.SEOUL,
        venue="서울 강남구 교육장",
        starts_at=starts_at,
        ends_at=ends_at,
        hours=Decimal("12"),
        capacity=CERTIFICATES,
        seats_taken=CERTIFICATES,
        status=CourseStatus.PUBLISHED,
        requires_survey=False,
        closed_at=ends_at,
        closed_by_id=staff.id,
    )
    db.session.add(course)
    db.session.flush()
    enrollments = [
        Enrollment(
            course_id=course.id,
            learner_id=learner.id,
            status=EnrollmentStatus.ENROLLED,
            completed=True,
            attended_hours=Decimal("12"),
        )
        for learner in learners
    ]
    db.session.add_all(enrollments)
    db.session.commit()
    course_id = course.id
    for enrollment in enrollments:
        services.issue(enrollment)
    return course_id


def measure_rendering(app: Flask, course_id: int, results: Results) -> list[Holder]:
    # One query, as the bulk view loads them.
    certificates = services.course_certificates(course_id)
    if len(certificates) != CERTIFICATES:
        raise CheckFailed(f"{len(certificates)} valid certificates, expected {CERTIFICATES}")

    # The very first PDF of the process, before anything else renders.
    results.first_ms, first_pdf = timed(lambda: services.render(certificates[:1]))
    expect_pages(first_pdf, 1, "first render")

    stored = store_all(certificates, results)
    # Fresh rows: the commits of pdf_bytes expired the old ones. Nothing below commits, so
    # no render reloads a row (the stored PDF itself is a deferred column, not loaded here).
    certificates = services.course_certificates(course_id)

    fonts = font_configuration()
    base_url = app.static_folder  # what app.pdf.render_pdf_from_html uses

    def bare(html: str) -> bytes:
        return weasyprint.HTML(string=html, base_url=base_url).write_pdf(font_config=fonts)

    measure_singles(certificates, bare, results)
    measure_bulk(certificates, bare, results)
    return measure_stored(certificates, stored, results)


def store_all(certificates: list[Certificate], results: Results) -> dict[str, bytes]:
    """The first pdf_bytes of every certificate: render and store. Warms up every render."""
    stored: dict[str, bytes] = {}
    for certificate in certificates:
        serial = certificate.serial  # read before the commit in pdf_bytes expires the row
        pdf = results.time("pdf_bytes, first (stores)", lambda c=certificate: services.pdf_bytes(c))
        expect_pages(pdf, 1, f"stored PDF {serial}")
        stored[serial] = pdf
    return stored


def measure_singles(
    certificates: list[Certificate], bare: Callable[[str], bytes], results: Results
) -> None:
    htmls = [services.certificate_html([certificate]) for certificate in certificates]
    start = time.perf_counter()
    for done in range(1, SINGLE_PASSES + 1):
        pdfs: list[tuple[str, bytes, bytes]] = []
        for certificate, html in zip(certificates, htmls, strict=True):
            product_pdf = results.time("single product", lambda c=certificate: services.render([c]))
            bare_pdf = results.time("single bare", lambda h=html: bare(h))
            results.time("single html only", lambda c=certificate: services.certificate_html([c]))
            pdfs.append((certificate.serial, product_pdf, bare_pdf))
        results.single_passes = done
        if (time.perf_counter() - start) / done * (done + 1) > SINGLE_TIME_BUDGET_S:
            break
    for serial, product_pdf, bare_pdf in pdfs:
        expect_pages(product_pdf, 1, f"single product PDF {serial}")
        expect_pages(bare_pdf, 1, f"single bare PDF {serial}")
    results.single_kib = statistics.median(len(pdf) for _, pdf, _ in pdfs) / 1024


def measure_bulk(
    certificates: list[Certificate], bare: Callable[[str], bytes], results: Results
) -> None:
    html = services.certificate_html(certificates)
    start = time.perf_counter()
    for done in range(1, BULK_MAX_RUNS + 1):
        product_pdf = results.time("bulk product", lambda: services.render(certificates))
        bare_pdf = results.time("bulk bare", lambda: bare(html))
        results.time("bulk html only", lambda: services.certificate_html(certificates))
        pace = (time.perf_counter() - start) / done
        if done >= BULK_MIN_RUNS and pace * (done + 1) > BULK_TIME_BUDGET_S:
            break
    expect_pages(product_pdf, CERTIFICATES, "bulk product PDF")
    expect_pages(bare_pdf, CERTIFICATES, "bulk bare PDF")
    results.bulk_kib = len(product_pdf) / 1024


def measure_stored(
    certificates: list[Certificate], stored: dict[str, bytes], results: Results
) -> list[Holder]:
    """pdf_bytes once more for every certificate: the stored bytes, no render."""
    for certificate in certificates:
        pdf = results.time("pdf_bytes, stored", lambda c=certificate: services.pdf_bytes(c))
        if pdf != stored[certificate.serial]:
            raise CheckFailed(f"pdf_bytes of {certificate.serial} changed after storing")
    sample = certificates[:HOLDERS_SIGNED_IN]
    emails = dict(
        db.session.execute(
            select(User.id, User.email).where(User.id.in_([c.learner_id for c in sample]))
        ).all()
    )
    return [Holder(emails[c.learner_id], c.serial, stored[c.serial]) for c in sample]


def sign_in(client: FlaskClient, email: str, password: str) -> None:
    """POST the login form with the page's CSRF token, as a browser does."""
    page = client.get("/auth/login").get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    if match is None:
        raise CheckFailed("no CSRF token on /auth/login")
    response = client.post(
        "/auth/login",
        data={"csrf_token": match.group(1), "email": email, "password": password},
    )
    if response.status_code != 302:
        raise CheckFailed(f"signing in {email}: HTTP {response.status_code}")


def measure_downloads(app: Flask, holders: list[Holder], password: str, results: Results) -> None:
    clients = []
    for holder in holders:
        client = app.test_client()
        sign_in(client, holder.email, password)
        clients.append((client, holder))

    def download(client: FlaskClient, url: str) -> tuple[int, bytes]:
        response = client.get(url)
        try:
            return response.status_code, response.get_data()
        finally:
            response.close()

    for client, holder in clients:  # warm-up: one download each
        download(client, f"/certificates/{holder.serial}.pdf")
    for _ in range(DOWNLOAD_ROUNDS):
        for client, holder in clients:
            url = f"/certificates/{holder.serial}.pdf"
            status, body = results.time(
                "HTTP download (holder)", lambda c=client, u=url: download(c, u)
            )
            if status != 200 or body != holder.pdf:
                raise CheckFailed(f"GET {url} by its holder: HTTP {status}, not the stored PDF")


def report(results: Results) -> None:
    passes = results.single_passes
    print(
        f"certificate PDFs: {CERTIFICATES} certificates of one course (bulk PDF "
        f"{results.bulk_kib:.0f} KiB, single PDF {results.single_kib:.0f} KiB); "
        f"WeasyPrint {weasyprint.__version__}, SQLite {sqlite3.sqlite_version}"
    )
    print(
        f"singles {passes} pass{'es' if passes != 1 else ''} over {CERTIFICATES}, bulk "
        f"{len(results.samples['bulk product'])} runs, after {CERTIFICATES + 1} warm-up renders "
        f"(first + storing); downloads {HOLDERS_SIGNED_IN} holders x {DOWNLOAD_ROUNDS}"
    )
    print(f"{'':<27}{'median ms':>10}{'min ms':>10}{'max ms':>10}{'ms/cert':>10}")
    print(f"{'first render (1 page)':<27}{results.first_ms:>10.1f}")
    for name in ROWS:
        samples = results.samples[name]
        per_certificate = ""
        if name.startswith("bulk"):
            per_certificate = f"{statistics.median(samples) / CERTIFICATES:>10.1f}"
        print(
            f"{name:<27}{statistics.median(samples):>10.1f}{min(samples):>10.1f}"
            f"{max(samples):>10.1f}{per_certificate}"
        )

    for kind in ("single", "bulk"):
        product = results.median(f"{kind} product")
        bare = results.median(f"{kind} bare")
        html = results.median(f"{kind} html only")
        overhead = (product - bare) / bare * 100
        verdict = "met" if overhead < OVERHEAD_TARGET_PERCENT else "NOT met"
        print(
            f"{kind}: product/bare {product / bare:.2f}, overhead {overhead:.1f} % of "
            f"WeasyPrint (target under {OVERHEAD_TARGET_PERCENT:.0f} %: {verdict}); "
            f"product-bare {product - bare:.1f} ms, certificate_html alone {html:.1f} ms"
        )
        product_cpu = results.median(f"{kind} product", cpu=True)
        bare_cpu = results.median(f"{kind} bare", cpu=True)
        print(
            f"  {kind} by CPU time: product/bare {product_cpu / bare_cpu:.2f}, "
            f"overhead {(product_cpu - bare_cpu) / bare_cpu * 100:.1f} %"
        )
    bulk_per_certificate = results.median("bulk product") / CERTIFICATES
    single = results.median("single product")
    print(
        f"per certificate: single document {single:.1f} ms, page of the bulk document "
        f"{bulk_per_certificate:.1f} ms ({single / bulk_per_certificate:.1f}x)"
    )
    wall = sum(sum(samples) for samples in results.samples.values())
    cpu = sum(sum(samples) for samples in results.cpu.values())
    share = cpu / wall * 100
    note = ""
    if share < BUSY_BELOW_PERCENT:
        note = " (other processes took turns on the cores: prefer the CPU-time ratios)"
    print(f"CPU time / wall-clock time of the timed runs: {share:.0f} %{note}")


if __name__ == "__main__":
    sys.exit(main())
