"""Benchmark: the annual-calendar leaflet PDF (`courses.exports.leaflet_pdf`).

Run from the repository root:  .venv/bin/python bench/bench_calendar_pdf.py

It builds its own throw-away SQLite database in a temporary directory, seeds the demo year
(`app.demo.seed`) and times, in one process:

  first    the first leaflet render in the process (font configuration still cold)
  product  leaflet_pdf(year, calendar, courses): template rendering plus WeasyPrint
  bare     WeasyPrint alone on the exact HTML string the product path renders, with the
           same shared FontConfiguration (app.pdf.font_configuration)

product/bare is the cost of everything CourseDesk adds around WeasyPrint; it should stay
close to 1. Product and bare runs alternate so that drift on a busy machine hits both alike.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Keep create_app from writing instance/secret_key in the checkout; nothing is signed here.
os.environ.setdefault("SECRET_KEY", "bench-not-a-secret")

import weasyprint  # noqa: E402
from flask import render_template  # noqa: E402

from app import create_app  # noqa: E402
from app.core.extensions import db  # noqa: E402
from app.core.pdf import font_configuration  # noqa: E402
from app.core.timeutil import local_today, utcnow  # noqa: E402
from app.demo import seed  # noqa: E402
from courses import exports, services  # noqa: E402
from courses.models import CourseStatus  # noqa: E402

WARMUP = 3
REPETITIONS = 15
# Stop repeating early rather than run for minutes on a very slow or overloaded machine.
TIME_BUDGET_S = 45.0


def timed(render: Callable[[], bytes]) -> tuple[float, bytes]:
    start = time.perf_counter()
    pdf = render()
    return (time.perf_counter() - start) * 1000, pdf


def page_count(pdf: bytes) -> int:
    from io import BytesIO

    from pypdf import PdfReader

    return len(PdfReader(BytesIO(pdf)).pages)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="coursedesk-bench-") as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            db.create_all()
            # A request context, as `flask seed-demo` has: the seed may build external URLs
            # (announcement mail), and the leaflet renders inside a request in production.
            base_url = app.config.get("BASE_URL", "http://127.0.0.1:5000")
            with app.test_request_context("/", base_url=base_url):
                seed()
                result = run(local_today().year)
            db.session.remove()
            db.engine.dispose()
    return result


def run(year: int) -> int:
    calendar = services.get_calendar(year)
    # The public calendar's courses, as the /calendar/<year>.pdf route loads them.
    courses = services.find_courses(
        services.CourseFilter(year=year),
        statuses=(CourseStatus.PUBLISHED, CourseStatus.CANCELLED),
    )
    if calendar is None or not courses:
        print(f"no published {year} calendar after seeding", file=sys.stderr)
        return 1

    def product() -> bytes:
        return exports.leaflet_pdf(year, calendar, courses)

    first_ms, first_pdf = timed(product)

    html = render_template(
        "calendar/leaflet.html",
        year=year,
        calendar=calendar,
        months=services.group_by_month(courses),
        course_count=len(courses),
        generated_at=utcnow(),
    )
    fonts = font_configuration()

    def bare() -> bytes:
        return weasyprint.HTML(string=html).write_pdf(font_config=fonts)

    for _ in range(WARMUP):
        product()
        bare()

    product_ms: list[float] = []
    bare_ms: list[float] = []
    deadline = time.perf_counter() + TIME_BUDGET_S
    for _ in range(REPETITIONS):
        elapsed, product_pdf = timed(product)
        product_ms.append(elapsed)
        elapsed, bare_pdf = timed(bare)
        bare_ms.append(elapsed)
        if time.perf_counter() > deadline:
            break

    pages = {page_count(pdf) for pdf in (first_pdf, product_pdf, bare_pdf)}
    if len(pages) != 1:
        print(f"the renders differ in page count: {sorted(pages)}", file=sys.stderr)
        return 1

    product_median = statistics.median(product_ms)
    bare_median = statistics.median(bare_ms)
    print(
        f"calendar leaflet PDF: {year}, {len(courses)} courses, {pages.pop()} pages, "
        f"{len(product_pdf) / 1024:.0f} KiB; WeasyPrint {weasyprint.__version__}, "
        f"{len(product_ms)} runs after {WARMUP} warm-up"
    )
    print(f"{'':<10}{'median ms':>10}{'min ms':>10}{'max ms':>10}")
    for name, samples in (("product", product_ms), ("bare", bare_ms)):
        print(
            f"{name:<10}{statistics.median(samples):>10.1f}"
            f"{min(samples):>10.1f}{max(samples):>10.1f}"
        )
    print(f"{'first':<10}{first_ms:>10.1f}")
    print(f"product/bare (medians): {product_median / bare_median:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
