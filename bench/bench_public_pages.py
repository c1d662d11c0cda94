"""Public pages with and without the anonymous page cache, beside a bare Flask route, all
through Flask's test client in one process (no HTTP server: a lower bound of the cost per
request, not a throughput). Needs a seeded demo database: DEMO_DATABASE_URL (default
instance/coursedesk.sqlite3, as `make run` creates it).

    .venv/bin/python bench/bench_public_pages.py
"""

import os
import statistics
import time
from pathlib import Path

from flask import Flask

from app import create_app

DATABASE = os.environ.get(
    "DEMO_DATABASE_URL",
    f"sqlite:///{Path(__file__).resolve().parent.parent / 'instance' / 'coursedesk.sqlite3'}",
)


def med(client, url, n=200):
    for _ in range(20):
        client.get(url)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
    assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times) * 1000


def main() -> None:
    if DATABASE.startswith("sqlite:///") and not Path(DATABASE.removeprefix("sqlite:///")).exists():
        print(f"no demo database at {DATABASE}: run `make run` once (or set DEMO_DATABASE_URL)")
        return
    bare = Flask("bare")
    bare.route("/")(lambda: "hello")
    base = med(bare.test_client(), "/")
    for seconds in (0, 10):
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": DATABASE,
                "SECRET_KEY": "bench",
                "BASE_URL": "http://localhost",
                "PUBLIC_PAGE_CACHE_SECONDS": seconds,
            }
        )
        client = app.test_client()
        from app.core.timeutil import local_today

        year = local_today().year
        print(f"page cache {seconds} s (median ms per request, ratio to the bare route)")
        for url in (
            "/",
            "/courses/",
            f"/calendar/{year}",
            f"/calendar/{year}.ics",
            f"/calendar/{year}.pdf",
        ):
            value = med(client, url, n=100 if url.endswith("pdf") else 200)
            print(f"  {url:<22} {value:8.2f} ms  {value / base:7.1f}x")
    print(f"bare route {base:.3f} ms")


if __name__ == "__main__":
    main()
