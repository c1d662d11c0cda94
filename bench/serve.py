"""WSGI entry points the scale benchmark serves with gunicorn (`bench/bench_scale.py`).

BENCH_SERVE=bare  a bare Flask app whose one route, `/`, returns "hello": the baseline
                  for requests per second, served by the same gunicorn the same way
otherwise         CourseDesk exactly as `wsgi.py` builds it (`create_app()`, settings from
                  the environment: DATABASE_URL, SECRET_KEY, BASE_URL,
                  PUBLIC_PAGE_CACHE_SECONDS, ...), except that BENCH_DOCUMENT_CACHE_DIR,
                  when set, keeps the stored leaflet PDFs out of the checkout's instance/
"""

from __future__ import annotations

import os

from flask import Flask

if os.environ.get("BENCH_SERVE") == "bare":
    app = Flask("bare")

    @app.route("/")
    def hello() -> str:
        return "hello"

else:
    from app import create_app

    overrides = {}
    if folder := os.environ.get("BENCH_DOCUMENT_CACHE_DIR"):
        overrides["DOCUMENT_CACHE_DIR"] = folder
    app = create_app(overrides or None)
