"""Benchmark: what CourseDesk's PDF templates cost WeasyPrint, against plain baselines.

Run from the repository root:  .venv/bin/python bench/bench_pdf_layout.py [options]

It builds its own throw-away SQLite database in a temporary directory, seeds the demo year
(`app.demo.seed`), and collects the HTML of every PDF the product makes, through the very
functions that make them (the view or service builds the context, a stand-in for the PDF
call keeps the HTML). Then it times, in one process, runs of each kind alternating so that
drift on a busy machine hits them alike, after a warm-up:

  certificate         services.render([c]): QR code, template, WeasyPrint (all of it)
  plain certificate   WeasyPrint alone on a plain certificate written here: the same text,
                      one NanumGothic face, simple blocks, no QR code (the baseline)
  bulk / page         services.render(N certificates), one PDF, per page; against N plain
                      certificates in one document, per page
  leaflet             WeasyPrint on the leaflet's HTML (the document cache bypassed);
                      against a minimal table of the same rows: one NanumGothic face, one
                      table, the same cell texts, nothing else
  survey course,      WeasyPrint on the HTML of the survey PDFs (course report, year report,
  survey year,        instructor-meeting pack) and of the CP-mentoring visit report; no
  meeting pack,       baseline: compare before/after with --save and --compare
  visit report

Columns: median and min ms of the runs, pages, Pango layouts per render (calls of
weasyprint.text.line_break.Layout.setup: each costs a Pango layout of some text; layouts
that measure Korean text make many), font faces embedded in the PDF, and the ratio to the
baseline. Targets (issue 13): certificate <= 1.5x plain, bulk per page <= 1.5x plain,
leaflet <= 1.2x the minimal table. The script exits 1 if a check fails (page counts, the
texts the tests read back); it reports a missed target but does not fail on it, since
timings move with the machine.

Options:
  --runs N       timed runs per document (default 9; at least 7 recommended)
  --warmup N     warm-up renders per document before timing (default 3)
  --bulk N       certificates in the bulk document (default 20)
  --out DIR      also write each PDF and its pages as PNG (pdftoppm -r 60) into DIR
  --save FILE    write the medians as JSON
  --compare FILE print the ratio of each median to the one saved in FILE (e.g. "before")
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Keep create_app from writing instance/secret_key in the checkout; nothing is signed here.
os.environ.setdefault("SECRET_KEY", "bench-not-a-secret")

import weasyprint  # noqa: E402
from flask import render_template, render_template_string  # noqa: E402
from flask_login import login_user  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from sqlalchemy import select  # noqa: E402
from weasyprint.text import line_break  # noqa: E402

from app import create_app  # noqa: E402
from app.core.accounts.models import Role, User  # noqa: E402
from app.core.extensions import db  # noqa: E402
from app.core.pdf import font_configuration, render_pdf_from_html  # noqa: E402
from app.core.timeutil import local_today  # noqa: E402
from app.demo import seed  # noqa: E402
from certificates import services as certificates  # noqa: E402
from certificates.models import Certificate  # noqa: E402
from courses import services as courses  # noqa: E402
from courses.models import CourseStatus  # noqa: E402

TARGETS = {"certificate": 1.5, "bulk / page": 1.5, "leaflet": 1.2}
HOLDERS = ("김민준", "이서연", "박도윤", "최하은", "정지호", "강서윤", "조예준", "윤지우")


class CheckFailed(Exception):
    pass


# --- Baselines written here -------------------------------------------------------------

PLAIN_CERTIFICATE = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><style>
  @page { size: A4; margin: 30mm 32mm; }
  html { font-family: "NanumGothic"; font-size: 14pt; }
  .page { break-after: page; }
  .page:last-child { break-after: auto; }
  h1 { font-size: 40pt; text-align: center; font-weight: normal; }
  .small { font-size: 9pt; }
</style></head><body>
{% for c, url in pages %}
<div class="page">
  <p class="small">제 {{ c.serial }} 호</p>
  <h1>수료증</h1>
  <p>성명 {{ c.holder_name }}</p>
  <p>교육과정 {{ c.course_title }}</p>
  <p>교육기간 {{ format_date(c.course_start, "yyyy년 M월 d일") }}
    {%- if c.course_end != c.course_start %} ~ {{ format_date(c.course_end, "yyyy년 M월 d일") }}
    {%- endif %}</p>
  <p>교육시간 {{ c.hours | hours }}시간</p>
  <p>위 사람은 {{ institute }}에서 실시한 위 교육과정을 성실히 이수하였으므로
    이 증서를 수여합니다.</p>
  <p>{{ c.issued_at | localdt("yyyy년 M월 d일") }}</p>
  <p>{{ institute }}장 직인 생략</p>
  <p class="small">발급 담당: {{ c.issued_by_name }}</p>
  <p class="small">이 수료증의 진위는 QR 코드를 스캔하거나 아래 주소에서 확인할 수 있습니다.</p>
  <p class="small">{{ url }}</p>
  <p class="small">확인 코드: {{ c.verification_code }}</p>
</div>
{% endfor %}
</body></html>"""

MINIMAL_TABLE = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><style>
  @page { size: A4; margin: 16mm 14mm 18mm; }
  html { font-family: "NanumGothic"; font-size: 9.5pt; }
  table { width: 100%; {{ "table-layout: fixed;" if fixed else "" }} }
</style></head><body>
<table>
{% for month, rows in months.items() %}{% for course in rows %}
<tr><td>{{ course.starts_at | localdt("M/d (E)") }} {{ course.starts_at | localdt("HH:mm") }}
  –{{ course.ends_at | localdt("HH:mm") }}</td>
<td>{{ course.title }}<br>{{ course.summary }}</td>
<td>{{ course.audience.label }} · {{ course.size_focus.label }}<br>{{ course.region.label }}
  · {{ course.format.label }} · {{ course.hours | hours }}시간<br>{{ course.fee | won }}</td></tr>
{% endfor %}{% endfor %}
</table>
</body></html>"""


# --- Measuring --------------------------------------------------------------------------


@dataclass
class Document:
    name: str
    render: Callable[[], bytes]
    #: The texts that must be in the PDF (what the tests read back).
    texts: tuple[str, ...] = ()
    baseline: str | None = None
    #: Divide times by the pages (bulk), so that bulk and single compare.
    per_page: bool = False
    samples: list[float] = field(default_factory=list)  # wall-clock ms
    cpu: list[float] = field(default_factory=list)  # this process's CPU ms
    layouts: int = 0
    pages: int = 0
    fonts: list[str] = field(default_factory=list)
    pdf: bytes = b""


class LayoutCounter:
    """Counts Pango layouts made by WeasyPrint (every Layout.setup is one)."""

    def __init__(self) -> None:
        self.count = 0
        self._original = line_break.Layout.setup

    def __enter__(self) -> LayoutCounter:
        original = self._original

        def counting(layout, style):
            self.count += 1
            return original(layout, style)

        line_break.Layout.setup = counting
        return self

    def __exit__(self, *exc: object) -> None:
        line_break.Layout.setup = self._original


def font_faces(pdf: bytes) -> list[str]:
    faces: set[str] = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            name = str(ref.get_object().get("/BaseFont", "?"))
            faces.add(name.split("+", 1)[-1].lstrip("/"))
    return sorted(faces)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(BytesIO(pdf)).pages)


def bare(html: str) -> Callable[[], bytes]:
    fonts = font_configuration()

    def render() -> bytes:
        return weasyprint.HTML(string=html, base_url=None).write_pdf(font_config=fonts)

    return render


def measure(documents: list[Document], runs: int, warmup: int) -> None:
    for document in documents:
        with LayoutCounter() as counter:
            document.pdf = document.render()
        document.layouts = counter.count
        reader = PdfReader(BytesIO(document.pdf))
        document.pages = len(reader.pages)
        document.fonts = font_faces(document.pdf)
        text = pdf_text(document.pdf)
        for expected in document.texts:
            if expected not in text:
                raise CheckFailed(f"{document.name}: {expected!r} is not in the PDF text")
        for _ in range(warmup):
            document.render()
    for _ in range(runs):
        for document in documents:  # alternate, so drift hits every document alike
            cpu_start = time.process_time()
            start = time.perf_counter()
            document.render()
            document.samples.append((time.perf_counter() - start) * 1000)
            document.cpu.append((time.process_time() - cpu_start) * 1000)


def median(document: Document, *, cpu: bool = False) -> float:
    value = statistics.median(document.cpu if cpu else document.samples)
    return value / document.pages if document.per_page else value


def minimum(document: Document) -> float:
    value = min(document.samples)
    return value / document.pages if document.per_page else value


# --- Collecting the product's documents ---------------------------------------------------


def captured(target: str, call: Callable[[], object], *, template_call: bool) -> str:
    """The HTML that `call` hands to the PDF function patched at `target`."""
    seen: list[str] = []

    def keep(*args, **kwargs) -> bytes:
        seen.append(render_template(*args, **kwargs) if template_call else args[0])
        return b"%PDF-1.7\n"

    with mock.patch(target, keep):
        call()
    if len(seen) != 1:
        raise CheckFailed(f"{target}: {len(seen)} documents captured, expected 1")
    return seen[0]


def demo_certificates(count: int) -> list[Certificate]:
    """The demo's first certificate, and `count` unsaved variants of it (names, serials)."""
    first = db.session.execute(select(Certificate).order_by(Certificate.id)).scalars().first()
    if first is None:
        raise CheckFailed("the demo issued no certificate")
    variants = []
    for n in range(count):
        variant = Certificate(
            serial=f"{first.serial[:5]}{9000000 + n:07d}",
            verification_code=(first.verification_code[:-3] + f"{n:03d}")
            .replace("0", "A")
            .replace("1", "B"),
            holder_name=HOLDERS[n % len(HOLDERS)],
            course_title=first.course_title,
            course_start=first.course_start,
            course_end=first.course_end,
            hours=first.hours,
            issued_at=first.issued_at,
            issued_by_name=first.issued_by_name,
        )
        variants.append(variant)
    return [first, *variants]


def collect(app, bulk: int) -> list[Document]:
    from surveys import meetings
    from surveys import views as survey_views
    from visits import mentoring
    from visits.models import MentoringVisit

    year = local_today().year
    staff = db.session.execute(select(User).where(User.role == Role.STAFF)).scalars().first()
    login_user(staff)
    institute = app.config["INSTITUTE_NAME"]

    # Certificates: the product path, and the plain baseline of the same text.
    first, *variants = demo_certificates(bulk)
    bulk_set = variants[:bulk]

    def plain(pages: list[Certificate]) -> str:
        return render_template_string(
            PLAIN_CERTIFICATE,
            pages=[(c, certificates.verify_url(c)) for c in pages],
            institute=institute,
        )

    cert_texts = (
        "수료증",
        first.holder_name,
        first.course_title,
        first.serial,
        first.issued_by_name,
        first.verification_code,
    )
    documents = [
        Document(
            "certificate",
            lambda: certificates.render([first]),
            cert_texts,
            baseline="plain certificate",
        ),
        Document("plain certificate", bare(plain([first])), cert_texts),
        Document(
            "bulk / page",
            lambda: certificates.render(bulk_set),
            tuple(c.holder_name for c in bulk_set),
            baseline="plain bulk / page",
            per_page=True,
        ),
        Document("plain bulk / page", bare(plain(bulk_set)), per_page=True),
    ]

    # The leaflet, as /calendar/<year>.pdf loads it, laid out without the document cache.
    calendar = courses.get_calendar(year)
    rows = courses.find_courses(
        courses.CourseFilter(year=year), statuses=(CourseStatus.PUBLISHED, CourseStatus.CANCELLED)
    )
    from courses import exports

    leaflet = captured(
        "courses.exports.cached_pdf",
        lambda: exports.leaflet_pdf(year, calendar, rows),
        template_call=True,
    )
    months = courses.group_by_month(rows)
    titles = tuple(course.title for course in rows[:3])
    documents += [
        Document(
            "leaflet", lambda: render_pdf_from_html(leaflet), titles, baseline="minimal table"
        ),
        Document(
            "minimal table",
            bare(render_template_string(MINIMAL_TABLE, months=months, fixed=True)),
            titles,
        ),
        Document(
            "auto table",
            bare(render_template_string(MINIMAL_TABLE, months=months, fixed=False)),
            titles,
        ),
    ]

    # Survey PDFs through their views (which build the context), and the visit report.
    from surveys.models import Response  # noqa: F401

    course_id = survey_course(year)
    meeting = meetings.all_meetings()[0]
    survey_docs = {
        "survey course": lambda: survey_views.course_report_pdf(course_id),
        "survey year": lambda: survey_views.year_report_pdf(year),
        "meeting pack": lambda: survey_views.meeting_pack_pdf(meeting.id),
    }
    for name, view in survey_docs.items():
        html = captured("surveys.views.render_pdf", view, template_call=True)
        documents.append(Document(name, lambda h=html: render_pdf_from_html(h)))
    visit = db.session.execute(select(MentoringVisit)).scalars().first()
    case = mentoring.get_case(visit.case_id) if hasattr(mentoring, "get_case") else None
    html = captured(
        "visits.mentoring.render_pdf_from_html",
        lambda: mentoring.visit_report_pdf(visit, case or visit_case(visit)),
        template_call=False,
    )
    documents.append(
        Document(
            "visit report",
            lambda: render_pdf_from_html(html),
            ("방문 보고서", "판정 대장 양식 도입"),
        )
    )
    return documents


def survey_course(year: int) -> int:
    """The demo course with the most survey responses."""
    from sqlalchemy import func

    from surveys.models import Response

    row = db.session.execute(
        select(Response.course_id, func.count())
        .where(Response.course_id.is_not(None))
        .group_by(Response.course_id)
        .order_by(func.count().desc())
    ).first()
    if row is None:
        raise CheckFailed("the demo has no survey responses")
    return row[0]


def visit_case(visit):
    from visits.models import MentoringCase

    return db.session.get(MentoringCase, visit.case_id)


# --- Output -------------------------------------------------------------------------------


def write_out(documents: list[Document], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for document in documents:
        stem = document.name.replace(" / page", "").replace(" ", "-")
        (out / f"{stem}.pdf").write_bytes(document.pdf)
        if shutil.which("pdftoppm"):
            subprocess.run(
                ["pdftoppm", "-r", "60", "-png", str(out / f"{stem}.pdf"), str(out / stem)],
                check=True,
            )


def report(documents: list[Document], runs: int, warmup: int, before: dict | None) -> list[str]:
    by_name = {document.name: document for document in documents}
    print(
        f"WeasyPrint {weasyprint.__version__}; {runs} timed runs per document after "
        f"{warmup} warm-up, documents alternating; ms per document (per page for bulk).\n"
        "wall = median wall-clock ms, cpu = median CPU ms of this process (WeasyPrint is "
        "single-threaded: cpu is the work done, and moves far less than wall on a busy "
        "machine); ratios are to the baseline, by cpu and by wall; targets are checked on cpu."
    )
    header = (
        f"{'document':<19}{'wall':>8}{'cpu':>8}{'pages':>6}{'layouts':>8}{'faces':>6}"
        f"{'x base cpu':>11}{'wall':>7}{'target':>8}"
    )
    if before:
        header += f"{'x saved cpu':>12}{'wall':>7}"
    print(header)
    missed = []
    for document in documents:
        wall, cpu = median(document), median(document, cpu=True)
        layouts = document.layouts / document.pages if document.per_page else document.layouts
        line = (
            f"{document.name:<19}{wall:>8.1f}{cpu:>8.1f}{document.pages:>6}"
            f"{layouts:>8.0f}{len(document.fonts):>6}"
        )
        if document.baseline:
            base = by_name[document.baseline]
            ratio = cpu / median(base, cpu=True)
            line += f"{ratio:>10.2f}x{wall / median(base):>6.2f}x"
            target = TARGETS.get(document.name)
            if target:
                line += f"{'<=' + format(target, '.1f') + 'x':>8}"
                if ratio > target:
                    missed.append(f"{document.name}: {ratio:.2f}x > {target}x")
            else:
                line += " " * 8
        else:
            line += " " * 25
        if before and document.name in before:
            saved = before[document.name]
            line += f"{cpu / saved['cpu']:>11.2f}x{wall / saved['wall']:>6.2f}x"
        print(line)
    print()
    for document in documents:
        print(f"{document.name:<19}faces: {', '.join(document.fonts)}")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--bulk", type=int, default=20)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="coursedesk-bench-") as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "DOCUMENT_CACHE_DIR": str(Path(tmp) / "documents"),
                "RATELIMIT_ENABLED": False,
            }
        )
        try:
            with app.app_context():
                db.create_all()
                base_url = app.config.get("BASE_URL", "http://127.0.0.1:5000")
                with app.test_request_context("/", base_url=base_url):
                    seed()
                    db.session.commit()
                    documents = collect(app, args.bulk)
                    measure(documents, args.runs, args.warmup)
                db.session.remove()
                db.engine.dispose()
        except CheckFailed as error:
            print(f"check failed: {error}", file=sys.stderr)
            return 1

    if args.out:
        write_out(documents, args.out)
    before = json.loads(args.compare.read_text()) if args.compare else None
    missed = report(documents, args.runs, args.warmup, before)
    if args.save:
        args.save.write_text(
            json.dumps(
                {
                    document.name: {"wall": median(document), "cpu": median(document, cpu=True)}
                    for document in documents
                },
                indent=1,
            )
        )
    if missed:
        print("\nmissed targets: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
