"""Benchmark at the scale of a big institute: ten years of history, one table of figures.

Run from the repository root (`make bench` runs it):

    .venv/bin/python bench/bench_scale.py                  # BENCH_SCALE=1.0: the full set
    BENCH_SCALE=0.1 .venv/bin/python bench/bench_scale.py  # a quick run

It gets (or builds, see `bench/bigdata.py`) the ten-year set and a one-year set of the
same density on SQLite and on PostgreSQL, measures, prints ONE table and writes the same
rows, with machine information, to `bench/results/latest.json`. Every figure is a median
over repeated runs, next to a baseline measured in the same run:

  public pages    requests per second and p99 latency of `/`, `/courses/`, `/courses/<id>`,
                  `/calendar/<y>`, `/calendar/<y>.ics` and `/calendar/<y>.pdf`, each served
                  by gunicorn (the product's gunicorn.conf.py when there is one, the same
                  worker count everywhere) and loaded by ApacheBench (`ab`, keep-alive,
                  concurrency = workers; a threaded http.client load generator if `ab` is
                  missing), against a bare Flask "hello" route served the same way; with the
                  product's anonymous page cache as configured by default (10 s), which the
                  issue's targets judge (≥ 0.3× bare, p99 < 50 ms), and off (every request
                  computed; no target: the rows show what the cache saves).
                  Worker recycling (gunicorn.conf.py's max_requests) is off for these
                  steady-state figures, since at load-test rates a worker would be replaced
                  every few seconds; one more PostgreSQL server keeps it ("recycling" rows,
                  not judged: they show what the replacements cost at such rates)
  certificates    `certificates.services.render` of one certificate, and of a course's
                  whole bulk document per page, against WeasyPrint alone on a plain Korean
                  certificate of the same texts in one family (NanumGothic, its heading in
                  the bold face by the browser default: the issue's 27.8 ms); ≤ 1.5×
  leaflet         `courses.exports.leaflet_pdf` of the year when its PDF must be laid out
                  (document cache empty) against WeasyPrint on a minimal one-font table of
                  the same rows (≤ 1.2×), and `GET /calendar/<y>.pdf` by an anonymous
                  visitor once it is stored (< 5 ms; page cache off)
  reports         GET /staff/ and GET /surveys/reports/<y> signed in as staff (in process,
                  Flask's test client) on the ten-year set, each engine, against the same
                  page on the one-year set; < 300 ms on PostgreSQL, < 600 ms on SQLite
  statements      SQL statements each of those pages and the public pages issue (counted
                  with a `before_cursor_execute` listener, page cache off), ten years
                  against one year: the target is the same number

Settings (environment): BENCH_SCALE (1.0), BENCH_ENGINES ("sqlite,postgresql"),
BENCH_PG_URL (postgresql+psycopg://postgres@127.0.0.1:5432/bench), BENCH_WORKERS (what
gunicorn.conf.py would start: 2 × CPUs + 1), BENCH_CONCURRENCY (the worker count),
BENCH_SECONDS (3 per load run), BENCH_REPEATS (3), BENCH_OUTPUT (bench/results/latest.json),
BENCH_ONLY (the groups to run, of "pages,pdfs,http": all).

The machine is shared and noisy: the header shows the load average before and after, and
the JSON keeps every sample. The load generator runs on the same cores as the server, which
costs the bare route and the product alike. A check that fails (a page that does not
answer 200, a PDF with the wrong number of pages) is a row marked ERROR, and the script
exits 1 after writing the table.
"""

from __future__ import annotations

import contextlib
import gc
import html
import json
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.client import HTTPConnection
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("SECRET_KEY", "bench-not-a-secret")

import bigdata  # noqa: E402
import weasyprint  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from sqlalchemy import event, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.core.extensions import db  # noqa: E402
from app.core.pdf import font_configuration  # noqa: E402
from app.core.timeutil import to_local  # noqa: E402

OUTPUT = Path(os.environ.get("BENCH_OUTPUT", ROOT / "bench" / "results" / "latest.json"))
SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
ENGINES = [e.strip() for e in os.environ.get("BENCH_ENGINES", "sqlite,postgresql").split(",")]
WORKERS = int(os.environ.get("BENCH_WORKERS", 2 * (os.cpu_count() or 1) + 1))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", WORKERS))
LOAD_SECONDS = max(1, int(os.environ.get("BENCH_SECONDS", "3")))  # ab: whole seconds
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
#: Which groups of measures to run: "pages", "pdfs", "http" (all by default).
ONLY = {part.strip() for part in os.environ.get("BENCH_ONLY", "pages,pdfs,http").split(",")}
PAGE_RUNS = 5  # in-process page timings after one warm-up
CERT_SINGLES = 20  # certificates rendered one by one, each way, per pass
CERT_SINGLE_PASSES = 2
BULK_RUNS = 3
LEAFLET_RUNS = 3
CACHE_HITS = 30
BASE_URL = "http://localhost"  # in-process apps; the test client's host
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
NAME = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
PAGE_TARGETS_MS = {"SQLite": 600.0, "PostgreSQL": 300.0}
RPS_TARGET = 0.3
P99_TARGET_MS = 50.0
CERT_TARGET = 1.5


def _recycling() -> int:
    """max_requests as the product's gunicorn.conf.py sets it (0: no such file or setting)."""
    config = ROOT / "gunicorn.conf.py"
    if not config.exists():
        return 0
    import runpy

    return int(runpy.run_path(str(config)).get("max_requests", 0) or 0)


#: Steady-state servers run with worker recycling off (GUNICORN_MAX_REQUESTS=0): at the
#: rates of a load test a worker would be replaced every few seconds instead of every few
#: hours, and its restart would dominate the figures. One extra server keeps the
#: production setting, so that its cost is measured too.
RECYCLING = _recycling()
LEAFLET_TARGET = 1.2
LEAFLET_CACHE_TARGET_MS = 5.0


# --- Rows --------------------------------------------------------------------------------


@dataclass
class Row:
    measure: str
    engine: str
    data: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    error: str | None = None
    samples: list[float] = field(default_factory=list)
    baseline_samples: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def cells(self) -> list[str]:
        show = (lambda v: f"{v:.0f}") if self.unit == "stmts" else fmt
        value = "—" if self.value is None else f"{show(self.value)} {self.unit}"
        baseline = ""
        if self.baseline is not None:
            baseline = f"{self.baseline_label} {show(self.baseline)} {self.unit}".strip()
        elif self.baseline_label:
            baseline = self.baseline_label
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}×"
        met = "ERROR" if self.error else ("" if self.met is None else ("yes" if self.met else "NO"))
        return [self.measure, self.engine, self.data, value, baseline, ratio, self.target, met]


def fmt(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


class Report:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.errors: list[str] = []

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        if row.error:
            self.errors.append(f"{row.measure} ({row.engine}, {row.data}): {row.error}")
        return row

    def print(self, header: list[str]) -> None:
        titles = ["measure", "engine", "data", "value", "baseline", "ratio", "target", "met?"]
        table = [titles] + [row.cells() for row in self.rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(titles))]
        right = {3, 4, 5}
        for line in header:
            print(line)

        def render(cells: list[str]) -> str:
            return "  ".join(
                cell.rjust(width) if i in right else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()

        print(render(titles))
        print("  ".join("-" * width for width in widths))
        for row in self.rows:
            print(render(row.cells()))
        for note in self.notes:
            print(note)
        for error in self.errors:
            print(f"ERROR: {error}")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall ms, this process's CPU ms, result)."""
    cpu = time.process_time()
    start = time.perf_counter()
    result = work()
    return (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000, result


# --- Data sets ---------------------------------------------------------------------------


@dataclass
class Target:
    """One engine's ten-year and one-year sets."""

    engine: str
    big: bigdata.Dataset
    small: bigdata.Dataset


def get_datasets(report: Report) -> list[Target]:
    targets = []
    for engine in ENGINES:
        try:
            pair = []
            for years in (10, 1):
                spec = bigdata.Spec(SCALE, years)
                if engine == "sqlite":
                    data = bigdata.sqlite_dataset(spec, log=log)
                else:
                    data = bigdata.postgres_dataset(spec, log=log)
                pair.append(data)
                report.add(
                    Row(
                        "data generation (schema + bulk insert)",
                        data.engine,
                        data.spec.label,
                        data.build_seconds,
                        "s",
                        baseline_label="built now" if data.built_now else "cached; built earlier",
                        extra={
                            "built_now": data.built_now,
                            "meta_phases": data.meta["phases"],
                            "built_at": data.meta["built_at"],
                            "counts": data.counts,
                        },
                    )
                )
        except bigdata.Unreachable as error:
            report.notes.append(f"{NAME[engine]} skipped: {error}")
            continue
        targets.append(Target(pair[0].engine, pair[0], pair[1]))
    return targets


def describe(data: bigdata.Dataset) -> str:
    c = data.counts
    return (
        f"{data.spec.label} = {data.spec.first_year}–{data.spec.last_year}: "
        f"{c['courses']:,} courses, {c['enrollments']:,} enrolments, "
        f"{c['survey_responses']:,} survey responses ({c['survey_answers']:,} answers), "
        f"{c['certificates']:,} certificates, {c['users']:,} users"
    )


# --- In process: report pages and statements ---------------------------------------------


class StatementCounter:
    def __init__(self, engine) -> None:
        self.count = 0
        self.on = False
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, *args) -> None:
        if self.on:
            self.count += 1

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        self.count = 0
        self.on = True
        try:
            yield
        finally:
            self.on = False


@dataclass
class InProcess:
    data: bigdata.Dataset
    app: Any
    staff: FlaskClient
    anonymous: FlaskClient
    counter: StatementCounter


def bench_app(data: bigdata.Dataset, documents: Path):
    """The product on a data set, for the measures taken in this process."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": data.url,
            "SECRET_KEY": os.environ["SECRET_KEY"],
            "BASE_URL": BASE_URL,
            # Off, and it must stay off in every app of this process: the page cache is one
            # per process, keyed by path, whichever app made the page.
            "PUBLIC_PAGE_CACHE_SECONDS": 0,
            "DOCUMENT_CACHE_DIR": str(documents),
            "RATELIMIT_ENABLED": False,
        }
    )


def in_process(data: bigdata.Dataset, documents: Path) -> InProcess:
    app = bench_app(data, documents)
    with app.app_context():
        counter = StatementCounter(db.engine)
    staff = app.test_client()
    page = staff.get("/auth/login").get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    if match is None:
        raise RuntimeError("no CSRF token on /auth/login")
    response = staff.post(
        "/auth/login",
        data={
            "csrf_token": match.group(1),
            "email": data.ids["staff_email"],
            "password": data.meta["password"],
        },
    )
    if response.status_code != 302:
        raise RuntimeError(f"signing in as staff: HTTP {response.status_code}")
    return InProcess(data, app, staff, app.test_client(), counter)


def get(client: FlaskClient, url: str) -> tuple[int, int]:
    response = client.get(url)
    try:
        return response.status_code, len(response.get_data())
    finally:
        response.close()


def public_urls(data: bigdata.Dataset) -> list[str]:
    year = data.ids["year"]
    return [
        "/",
        "/courses/",
        f"/courses/{data.ids['course_page_id']}",
        f"/calendar/{year}",
        f"/calendar/{year}.ics",
        f"/calendar/{year}.pdf",
    ]


def staff_urls(data: bigdata.Dataset) -> list[str]:
    return ["/staff/", f"/surveys/reports/{data.ids['year']}"]


def measure_pages(targets: list[Target], documents: Path, report: Report) -> None:
    """Statements per page at both sizes, and the two staff pages' times, engines and sizes
    taking turns run by run."""
    sides = []
    for target in targets:
        for data in (target.big, target.small):
            sides.append(in_process(data, documents))
    statements: dict[tuple[str, str, str], int] = {}
    statuses: dict[tuple[str, str, str], int] = {}
    for side in sides:
        for url in staff_urls(side.data) + public_urls(side.data):
            client = side.staff if url in staff_urls(side.data) else side.anonymous
            get(client, url)  # warm: templates compiled, the leaflet laid out once
            with side.counter.counting():
                status, _size = get(client, url)
            key = (side.data.engine, side.data.spec.label, generic(url, side.data))
            statements[key] = side.counter.count
            statuses[key] = status
    times: dict[tuple[str, str, str], list[float]] = {}
    for _ in range(PAGE_RUNS):
        for side in sides:
            for url in staff_urls(side.data):
                ms, _cpu, (status, _size) = timed(lambda s=side, u=url: get(s.staff, u))
                key = (side.data.engine, side.data.spec.label, generic(url, side.data))
                times.setdefault(key, []).append(ms)
                if status != 200:
                    statuses[key] = status
    for target in targets:
        big, small = target.big, target.small
        for url in staff_urls(big):
            name = generic(url, big)
            key_big = (big.engine, big.spec.label, name)
            key_small = (small.engine, small.spec.label, name)
            value, base = median(times[key_big]), median(times[key_small])
            limit = PAGE_TARGETS_MS[big.engine]
            report.add(
                Row(
                    f"GET {name} (staff, in process)",
                    big.engine,
                    big.spec.label,
                    value,
                    "ms",
                    baseline=base,
                    baseline_label=small.spec.label,
                    ratio=value / base,
                    target=f"<{limit:.0f} ms",
                    met=value < limit,
                    error=status_error(statuses[key_big], statuses[key_small]),
                    samples=times[key_big],
                    baseline_samples=times[key_small],
                )
            )
    for target in targets:
        big, small = target.big, target.small
        for url in staff_urls(big) + public_urls(big):
            name = generic(url, big)
            key_big = (big.engine, big.spec.label, name)
            key_small = (small.engine, small.spec.label, name)
            value, base = statements[key_big], statements[key_small]
            report.add(
                Row(
                    f"SQL statements, GET {name}",
                    big.engine,
                    big.spec.label,
                    value,
                    "stmts",
                    baseline=base,
                    baseline_label=small.spec.label,
                    ratio=value / base if base else None,
                    target=f"= {small.spec.label}",
                    met=value == base,
                    error=status_error(statuses[key_big], statuses[key_small]),
                )
            )
    for side in sides:
        with side.app.app_context():
            db.session.remove()
            db.engine.dispose()


def generic(url: str, data: bigdata.Dataset) -> str:
    """The URL with the set's own numbers replaced by their names."""
    year = str(data.ids["year"])
    url = url.replace(f"/courses/{data.ids['course_page_id']}", "/courses/<id>")
    return url.replace(year, "<y>")


def status_error(*statuses: int) -> str | None:
    bad = [status for status in statuses if status != 200]
    return f"HTTP {bad[0]}" if bad else None


# --- In process: PDFs --------------------------------------------------------------------

PLAIN_CERTIFICATE = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><style>
@page {{ size: A4; margin: 25mm; }}
html {{ font-family: "NanumGothic"; font-size: 13pt; }}
h1 {{ font-size: 30pt; text-align: center; }}
</style></head><body>
<p>제 {serial} 호</p>
<h1>수료증</h1>
<p>성명: {name}</p>
<p>교육과정: {course}</p>
<p>교육기간: {period}</p>
<p>교육시간: {hours}시간</p>
<p>위 사람은 {institute}에서 실시한 위 교육과정을 성실히 이수하였으므로 이 증서를 수여합니다.</p>
<p>{issued}</p>
<p>{institute}장</p>
<p>발급 담당: {issuer}</p>
<p>진위 확인: {url}</p>
<p>확인 코드: {code}</p>
</body></html>"""


def plain_certificate_html(certificates: list, institute: str) -> str:
    """A plain one-font Korean certificate per page with the product's texts, no QR code,
    no frame, grid or flex: the floor of what a certificate costs WeasyPrint."""
    pages = []
    for c in certificates:
        page = PLAIN_CERTIFICATE.format(
            serial=c.serial,
            name=html.escape(c.holder_name),
            course=html.escape(c.course_title),
            period=f"{c.course_start:%Y년 %m월 %d일} ~ {c.course_end:%Y년 %m월 %d일}",
            hours=c.hours,
            institute=html.escape(institute),
            issued=f"{to_local(c.issued_at):%Y년 %m월 %d일}",
            issuer=html.escape(c.issued_by_name),
            url=f"{BASE_URL}/certificates/verify/{c.verification_code}",
            code=c.verification_code,
        )
        pages.append(page)
    if len(pages) == 1:
        return pages[0]
    bodies = [p.split("<body>", 1)[1].rsplit("</body>", 1)[0] for p in pages]
    head = pages[0].split("<body>", 1)[0]
    joined = '<div style="break-after: page"></div>'.join(bodies)
    return f"{head}<body>{joined}</body></html>"


def minimal_table_html(year: int, courses: list) -> str:
    """The leaflet's rows in one plain table, one font, no styling beyond the page."""
    rows = []
    for c in courses:
        start, end = to_local(c.starts_at), to_local(c.ends_at)
        rows.append(
            "<tr>"
            f"<td>{start:%m/%d} {start:%H:%M}–{end:%H:%M}</td>"
            f"<td>{html.escape(c.title)}<br>{html.escape(c.summary)}</td>"
            f"<td>{c.audience.label} · {c.size_focus.label}<br>{c.region.label} · "
            f"{c.format.label} · {c.hours}시간<br>{c.fee:,}원</td>"
            "</tr>"
        )
    return (
        '<!doctype html><html lang="ko"><head><meta charset="utf-8"><style>'
        '@page { size: A4; margin: 16mm 14mm 18mm; } html { font-family: "NanumGothic"; '
        "font-size: 9.5pt; }</style></head><body>"
        f"<h1>{year} 연간 교육일정</h1><table>{''.join(rows)}</table></body></html>"
    )


def pages_of(pdf: bytes) -> int:
    return len(PdfReader(BytesIO(pdf)).pages)


def measure_pdfs(data: bigdata.Dataset, documents: Path, report: Report) -> None:
    from certificates import services as certificates
    from certificates.models import Certificate, CertificateStatus
    from courses import exports
    from courses import services as courses
    from courses.models import CourseStatus

    app = bench_app(data, documents)
    fonts = font_configuration()
    engine, label = "(WeasyPrint)", data.spec.label
    with app.test_request_context("/", base_url=BASE_URL):
        institute = app.config["INSTITUTE_NAME"]
        static = app.static_folder

        def bare(source: str) -> bytes:
            return weasyprint.HTML(string=source, base_url=static).write_pdf(font_config=fonts)

        singles = list(
            db.session.execute(
                select(Certificate)
                .where(
                    Certificate.id.in_(data.ids["certificate_sample"]),
                    Certificate.status == CertificateStatus.VALID,
                )
                .order_by(Certificate.id)
                .limit(CERT_SINGLES)
            ).scalars()
        )
        bulk = certificates.course_certificates(data.ids["bulk_course_id"])
        plain_singles = [plain_certificate_html([c], institute) for c in singles]
        plain_bulk = plain_certificate_html(bulk, institute)
        log(f"PDFs: {len(singles)} single certificates, bulk of {len(bulk)}, leaflet ...")
        for _ in range(2):  # warm-up: fonts, templates, WeasyPrint caches
            certificates.render(singles[:1])
            bare(plain_singles[0])

        product_single, bare_single, product_cpu, bare_cpu = [], [], [], []
        errors = []
        for _ in range(CERT_SINGLE_PASSES):
            for certificate, plain in zip(singles, plain_singles, strict=True):
                ms, cpu, pdf = timed(lambda c=certificate: certificates.render([c]))
                product_single.append(ms)
                product_cpu.append(cpu)
                if pages_of(pdf) != 1:
                    errors.append("a single certificate PDF is not one page")
                ms, cpu, pdf = timed(lambda p=plain: bare(p))
                bare_single.append(ms)
                bare_cpu.append(cpu)
        single_value, single_base = median(product_single), median(bare_single)
        report.add(
            Row(
                "certificate PDF, single",
                engine,
                label,
                single_value,
                "ms",
                baseline=single_base,
                baseline_label="plain",
                ratio=single_value / single_base,
                target=f"≤{CERT_TARGET}×",
                met=single_value / single_base <= CERT_TARGET,
                error=errors[0] if errors else None,
                samples=product_single,
                baseline_samples=bare_single,
                extra={"cpu_ratio": median(product_cpu) / median(bare_cpu)},
            )
        )

        bulk_ms, bulk_cpu, plain_bulk_ms, plain_bulk_cpu = [], [], [], []
        errors = []
        for _ in range(BULK_RUNS):
            ms, cpu, pdf = timed(lambda: certificates.render(bulk))
            bulk_ms.append(ms / len(bulk))
            bulk_cpu.append(cpu / len(bulk))
            if pages_of(pdf) != len(bulk):
                errors.append(f"the bulk PDF does not have {len(bulk)} pages")
            ms, cpu, pdf = timed(lambda: bare(plain_bulk))
            plain_bulk_ms.append(ms / len(bulk))
            plain_bulk_cpu.append(cpu / len(bulk))
        bulk_value = median(bulk_ms)
        report.add(
            Row(
                f"certificate PDF, bulk of {len(bulk)}, per page",
                engine,
                label,
                bulk_value,
                "ms",
                baseline=single_base,
                baseline_label="plain single",
                ratio=bulk_value / single_base,
                target=f"≤{CERT_TARGET}×",
                met=bulk_value / single_base <= CERT_TARGET,
                error=errors[0] if errors else None,
                samples=bulk_ms,
                baseline_samples=bare_single,
                extra={
                    "cpu_ratio": median(bulk_cpu) / median(bare_cpu),
                    "plain_bulk_per_page_ms": plain_bulk_ms,
                    "ratio_to_plain_bulk_per_page": bulk_value / median(plain_bulk_ms),
                },
            )
        )
        report.add(
            Row(
                f"  (info) plain bulk of {len(bulk)}, per page",
                engine,
                label,
                median(plain_bulk_ms),
                "ms",
                baseline=single_base,
                baseline_label="plain single",
                ratio=median(plain_bulk_ms) / single_base,
                samples=plain_bulk_ms,
            )
        )

        year = data.ids["year"]
        calendar = courses.get_calendar(year)
        rows = courses.find_courses(
            courses.CourseFilter(year=year),
            statuses=(CourseStatus.PUBLISHED, CourseStatus.CANCELLED),
        )
        table = minimal_table_html(year, rows)
        miss = Path(tempfile.mkdtemp(prefix="coursedesk-leaflet-miss-"))
        app.config["DOCUMENT_CACHE_DIR"] = str(miss)
        leaflet_ms, leaflet_cpu, table_ms, table_cpu = [], [], [], []
        errors = []
        try:
            for _ in range(LEAFLET_RUNS):
                for stale in miss.iterdir():
                    stale.unlink()
                ms, cpu, pdf = timed(lambda: exports.leaflet_pdf(year, calendar, rows))
                leaflet_ms.append(ms)
                leaflet_cpu.append(cpu)
                leaflet_pages = pages_of(pdf)
                ms, cpu, pdf = timed(lambda: bare(table))
                table_ms.append(ms)
                table_cpu.append(cpu)
                table_pages = pages_of(pdf)
        finally:
            shutil.rmtree(miss, ignore_errors=True)
        value, base = median(leaflet_ms), median(table_ms)
        report.add(
            Row(
                f"leaflet PDF {year}, laid out ({len(rows)} courses)",
                engine,
                label,
                value,
                "ms",
                baseline=base,
                baseline_label="min. table",
                ratio=value / base,
                target=f"≤{LEAFLET_TARGET}×",
                met=value / base <= LEAFLET_TARGET,
                samples=leaflet_ms,
                baseline_samples=table_ms,
                extra={
                    "cpu_ratio": median(leaflet_cpu) / median(table_cpu),
                    "leaflet_pages": leaflet_pages,
                    "table_pages": table_pages,
                },
            )
        )
        db.session.remove()
    app.config["DOCUMENT_CACHE_DIR"] = str(documents)
    measure_stored_leaflet(app, year, leaflet_pages, median(leaflet_ms), report, label)
    with app.app_context():
        db.engine.dispose()


def measure_stored_leaflet(
    app, year: int, pages: int, laid_out_ms: float, report: Report, label: str
) -> None:
    """GET the leaflet as an anonymous visitor gets it, page cache off, once it is stored:
    the calendar row, the stamp of the year's courses, the stored file, the response. Out
    of any context of this script's, whose session the requests would share, and with this
    script's objects (every PDF and course above) set aside from the garbage collector."""
    visitor = app.test_client()
    url = f"/calendar/{year}.pdf"
    errors = []
    if visitor.get(url).status_code != 200:  # stored (usually already, by the pages)
        errors.append(f"{url} did not answer 200")
    hits = []
    gc.collect()
    gc.freeze()
    try:
        for _ in range(CACHE_HITS):
            ms, _cpu, response = timed(lambda: visitor.get(url))
            hits.append(ms)
            if response.status_code != 200 or pages_of(response.data) != pages:
                errors.append(f"{url} served another document")
    finally:
        gc.unfreeze()
    value = median(hits)
    report.add(
        Row(
            f"leaflet PDF {year}, GET from the document store",
            "(WeasyPrint)",
            label,
            value,
            "ms",
            baseline=laid_out_ms,
            baseline_label="laid out",
            ratio=value / laid_out_ms,
            target=f"<{LEAFLET_CACHE_TARGET_MS:.0f} ms",
            met=value < LEAFLET_CACHE_TARGET_MS,
            error=errors[0] if errors else None,
            samples=hits,
        )
    )


# --- Over HTTP: gunicorn and a load generator --------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn serving bench/serve.py's app, stopped (by its own pid) on exit."""

    def __init__(self, name: str, env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [str(ROOT / ".venv" / "bin" / "gunicorn")]
        config = ROOT / "gunicorn.conf.py"
        if config.exists():
            command += ["-c", str(config)]
        command += [
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--chdir",
            str(ROOT),
            "--pythonpath",
            f"{ROOT},{ROOT / 'bench'}",
            "serve:app",
        ]
        environment = {
            **os.environ,
            **env,
            "BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(WORKERS),
            "BASE_URL": self.base,
        }
        self.log_path = logs / f"{name}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, env=environment, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT
        )

    def wait(self, path: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn {self.name} did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@dataclass
class Load:
    rps: float
    p50: float
    p99: float
    complete: int
    errors: int  # non-2xx answers and failed connections


def ab_load(url: str, seconds: int, concurrency: int, scratch: Path) -> Load:
    """ApacheBench for `seconds`. Percentiles from its table (`-e`, fractions of a ms),
    except for runs of 50 requests or fewer, where that table reads past its samples
    (ab 2.3): then from its per-request log (`-g`, whole ms; such pages are slow)."""
    table, timings = scratch / "ab.csv", scratch / "ab.tsv"
    command = [
        "ab", "-q", "-k", "-c", str(concurrency), "-t", str(int(seconds)), "-n", "10000000",
        "-e", str(table), "-g", str(timings), url,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    out = result.stdout

    def number(label: str) -> float:
        match = re.search(rf"^{label}:\s+([\d.]+)", out, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    if result.returncode != 0 and not out:
        raise RuntimeError(f"ab failed on {url}: {result.stderr.strip()[:300]}")
    complete = int(number("Complete requests"))
    if complete > 50:
        shares = dict(
            (int(float(share)), float(ms))
            for share, ms in (line.split(",") for line in table.read_text().splitlines()[1:])
        )
        p50, p99 = shares[50], shares[99]
    else:
        # starttime, seconds, ctime, dtime, ttime, wait: ttime is the whole request in ms.
        latencies = sorted(
            float(line.split("\t")[4]) for line in timings.read_text().splitlines()[1:] if line
        )
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    failed = re.search(
        r"Failed requests:\s+\d+\s*\n\s*\(Connect: (\d+), Receive: (\d+), "
        r"Length: \d+, Exceptions: (\d+)\)",
        out,
    )
    hard_failures = sum(int(n) for n in failed.groups()) if failed else 0
    return Load(
        rps=number("Requests per second"),
        p50=p50,
        p99=p99,
        complete=complete,
        errors=int(number("Non-2xx responses")) + hard_failures,
    )


def percentile(ordered: list[float], p: int) -> float:
    """Nearest rank: the smallest value at or above p % of the samples."""
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)]


def python_load(url: str, seconds: float, concurrency: int, scratch: Path) -> Load:
    """Threads with a keep-alive http.client connection each; slower than ab, so it takes
    more of the CPU the servers share with it."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker() -> None:
        connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine = []
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                connection.request("GET", parts.path or "/")
                response = connection.getresponse()
                response.read()
                if response.status >= 300:
                    errors[0] += 1
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except OSError:
                errors[0] += 1
                connection.close()
                continue
            mine.append((time.perf_counter() - start) * 1000)
        connection.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return Load(
        len(latencies) / elapsed,
        percentile(latencies, 50),
        percentile(latencies, 99),
        len(latencies),
        errors[0],
    )


def measure_http(targets: list[Target], documents: Path, report: Report, info: dict) -> None:
    load = ab_load if shutil.which("ab") else python_load
    info["load_generator"] = (
        "ab -k (ApacheBench; the sync workers close each connection)"
        if load is ab_load
        else ("threaded http.client (ab not installed)")
    )
    scratch = Path(tempfile.mkdtemp(prefix="coursedesk-bench-http-"))
    servers: list[Server] = []
    configs: list[tuple[Target, str, Server]] = []
    try:
        bare = Server("bare", {"BENCH_SERVE": "bare", "GUNICORN_MAX_REQUESTS": "0"}, scratch)
        servers.append(bare)
        recycled = [t for t in targets if t.engine == "PostgreSQL"][:1] or targets[:1]
        plans = [(t, "10", False) for t in recycled] if RECYCLING else []
        plans += [(t, cache, True) for t in targets for cache in ("10", "0")]
        for target, cache, steady in plans:
            env = {
                "BENCH_SERVE": "app",
                "DATABASE_URL": target.big.url,
                "SECRET_KEY": os.environ["SECRET_KEY"],
                "PUBLIC_PAGE_CACHE_SECONDS": cache,
                "BENCH_DOCUMENT_CACHE_DIR": str(documents),
            }
            if steady:
                env["GUNICORN_MAX_REQUESTS"] = "0"
            mode = cache if steady else "recycled"
            server = Server(f"{target.engine}-{mode}", env, scratch)
            servers.append(server)
            configs.append((target, mode, server))
        bare.wait("/")
        for _target, _cache, server in configs:
            server.wait("/healthz")
        log(f"HTTP: {len(servers)} gunicorn servers × {WORKERS} workers up; warming up ...")
        load(bare.base + "/", 1, CONCURRENCY, scratch)
        for target, _cache, server in configs:
            for url in public_urls(target.big):
                load(server.base + url, 1, CONCURRENCY, scratch)  # every worker, every page
        # Each server's block of pages follows a run of the bare route of its own, and each
        # page's ratio is taken to that run: the machine is shared, and its pace drifts.
        bare_runs: list[Load] = []
        samples: dict[tuple[str, str, str], list[tuple[Load, Load]]] = {}
        for repeat in range(REPEATS):
            log(f"HTTP: round {repeat + 1} of {REPEATS} ...")
            for target, mode, server in configs:
                bare_run = load(bare.base + "/", LOAD_SECONDS, CONCURRENCY, scratch)
                bare_runs.append(bare_run)
                for url in public_urls(target.big):
                    key = (target.engine, mode, generic(url, target.big))
                    run = load(server.base + url, LOAD_SECONDS, CONCURRENCY, scratch)
                    samples.setdefault(key, []).append((run, bare_run))
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    served = f"gunicorn {WORKERS} workers, c={CONCURRENCY}"
    report.add(
        Row(
            "GET / bare Flask route (baseline)",
            "—",
            "—",
            median([run.rps for run in bare_runs]),
            "req/s",
            baseline_label=served,
            samples=[run.rps for run in bare_runs],
        )
    )
    report.add(
        Row(
            "GET / bare Flask route p99 (baseline)",
            "—",
            "—",
            median([run.p99 for run in bare_runs]),
            "ms",
            samples=[run.p99 for run in bare_runs],
        )
    )
    for target, mode, _server in configs:
        label = {
            "10": "page cache 10 s",
            "0": "page cache off",
            "recycled": f"page cache 10 s, recycling {RECYCLING}",
        }[mode]
        # The targets judge the steady state of the product as configured. Without the page
        # cache the rows show what the cache saves; with recycling, what replacing each
        # worker every 1,000 requests costs at load-test rates (every second or two, where a
        # production worker lives for hours): each replaced worker starts with no page kept.
        judged = mode == "10"
        for url in public_urls(target.big):
            name = generic(url, target.big)
            pairs = samples[(target.engine, mode, name)]
            runs, bares = [run for run, _ in pairs], [bare for _, bare in pairs]
            errors = sum(run.errors for run in runs)
            error = f"{errors} failed or non-2xx answers" if errors else None
            rps_ratio = median([run.rps / bare.rps for run, bare in pairs])
            report.add(
                Row(
                    f"GET {name} ({label})",
                    target.engine,
                    target.big.spec.label,
                    median([run.rps for run in runs]),
                    "req/s",
                    baseline=median([bare.rps for bare in bares]),
                    baseline_label="bare",
                    ratio=rps_ratio,
                    target=f"≥{RPS_TARGET}×" if judged else "",
                    met=rps_ratio >= RPS_TARGET if judged else None,
                    error=error,
                    samples=[run.rps for run in runs],
                    baseline_samples=[bare.rps for bare in bares],
                    extra={"complete": [run.complete for run in runs]},
                )
            )
            p99 = median([run.p99 for run in runs])
            report.add(
                Row(
                    f"GET {name} ({label}) p99",
                    target.engine,
                    target.big.spec.label,
                    p99,
                    "ms",
                    baseline=median([bare.p99 for bare in bares]),
                    baseline_label="bare",
                    ratio=median([run.p99 / bare.p99 for run, bare in pairs if bare.p99]),
                    target=f"<{P99_TARGET_MS:.0f} ms" if judged else "",
                    met=p99 < P99_TARGET_MS if judged else None,
                    error=error,
                    samples=[run.p99 for run in runs],
                    baseline_samples=[bare.p99 for bare in bares],
                    extra={"p50_ms": [run.p50 for run in runs]},
                )
            )


# --- Machine -----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "weasyprint": weasyprint.__version__,
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    with contextlib.suppress(Exception):
        import sqlite3

        info["sqlite"] = sqlite3.sqlite_version
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        info["gunicorn"] = version("gunicorn")
    return info


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def postgres_version(targets: list[Target]) -> str | None:
    for target in targets:
        if target.engine == "PostgreSQL":
            from sqlalchemy import create_engine
            from sqlalchemy.pool import NullPool

            engine = create_engine(target.big.url, poolclass=NullPool)
            try:
                with engine.connect() as conn:
                    return conn.execute(text("SHOW server_version")).scalar_one().split()[0]
            finally:
                engine.dispose()
    return None


# --- Main --------------------------------------------------------------------------------


def main() -> int:
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    report = Report()
    info = machine()
    info["load_average_start"] = load_average()
    log(f"scale {SCALE:g}, engines {', '.join(ENGINES)}; data sets ...")
    targets = get_datasets(report)
    if not targets:
        print("no engine available", file=sys.stderr)
        return 1
    info["postgresql"] = postgres_version(targets)
    documents = Path(tempfile.mkdtemp(prefix="coursedesk-bench-documents-"))
    try:
        if "pages" in ONLY:
            log("pages in process: statements and staff page times ...")
            measure_pages(targets, documents, report)
        if "pdfs" in ONLY:
            sqlite_first = sorted(targets, key=lambda t: t.engine != "SQLite")[0]
            measure_pdfs(sqlite_first.big, documents, report)
        if "http" in ONLY:
            measure_http(targets, documents, report, info)
    finally:
        shutil.rmtree(documents, ignore_errors=True)
    info["load_average_end"] = load_average()
    seconds = time.perf_counter() - started
    header = [
        f"CourseDesk at scale ({started_at:%Y-%m-%d %H:%M} UTC, {seconds / 60:.1f} min): "
        f"{info.get('cpus')} CPUs ({info.get('cpu_model', '?')}), load average "
        f"{info['load_average_start']} → {info['load_average_end']}; SQLite "
        f"{info.get('sqlite')}, PostgreSQL {info.get('postgresql') or '—'}, WeasyPrint "
        f"{info['weasyprint']}, gunicorn {info.get('gunicorn', '?')}",
        *(f"  {describe(data)}" for t in targets[:1] for data in (t.big, t.small)),
        f"  HTTP: gunicorn {WORKERS} sync workers (gunicorn.conf.py; worker recycling off "
        f"except in the 'recycling' rows: max_requests {RECYCLING}), {info.get('load_generator')}, "
        f"concurrency {CONCURRENCY}, {REPEATS} rounds × {LOAD_SECONDS:g} s per URL, each server's "
        "pages right after a bare run of their own; value and baseline are medians, ratio the "
        "median of the per-round ratios. "
        f"In process: medians of {PAGE_RUNS} runs after a warm-up.",
    ]
    pdf_rows = [row for row in report.rows if "cpu_ratio" in row.extra]
    if pdf_rows:
        report.notes.append(
            "PDF ratios by this process's CPU time (less disturbed by other jobs): "
            + ", ".join(
                f"{row.measure.split(',')[-1].strip()} {row.extra['cpu_ratio']:.2f}×"
                for row in pdf_rows
            )
        )
    report.print(header)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "timestamp": started_at.isoformat(timespec="seconds"),
        "duration_s": round(seconds, 1),
        "scale": SCALE,
        "machine": info,
        "settings": {
            "workers": WORKERS,
            "concurrency": CONCURRENCY,
            "load_seconds": LOAD_SECONDS,
            "repeats": REPEATS,
            "page_runs": PAGE_RUNS,
            "engines": ENGINES,
        },
        "datasets": [
            {
                "engine": data.engine,
                "label": data.spec.label,
                "spec": asdict(data.spec),
                "built_now": data.built_now,
                "build_seconds": data.build_seconds,
                "counts": data.counts,
            }
            for target in targets
            for data in (target.big, target.small)
        ],
        "header": header,
        "rows": [
            {
                **asdict(row),
                "cells": dict(
                    zip(
                        [
                            "measure",
                            "engine",
                            "data",
                            "value",
                            "baseline",
                            "ratio",
                            "target",
                            "met",
                        ],
                        row.cells(),
                        strict=True,
                    )
                ),
            }
            for row in report.rows
        ],
        "notes": report.notes,
        "errors": report.errors,
    }
    scratch = OUTPUT.with_name(OUTPUT.name + ".tmp")
    scratch.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    scratch.replace(OUTPUT)
    print(f"written: {OUTPUT.relative_to(ROOT) if OUTPUT.is_relative_to(ROOT) else OUTPUT}")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
