"""Documents laid out once per change of what they show.

WeasyPrint's layout is the expensive part of a PDF (the leaflet takes most of a second);
Jinja's HTML is cheap. So the key of a stored PDF is the SHA-256 of its HTML: it changes
with anything the document shows (a course, a translation, the template) and with nothing
else, without any rule to keep in step with the data. Files live in `DOCUMENT_CACHE_DIR`
(by default `instance/cache/documents`), one per key, written whole by a rename; each
machine keeps its own, and the newest `DOCUMENT_CACHE_FILES` are kept.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import suppress
from pathlib import Path

from flask import current_app, render_template

from app.core.pdf import render_pdf_from_html

DEFAULT_KEPT_FILES = 200


def cached_pdf(template: str, **context: object) -> bytes:
    """The PDF of `template`, laid out only when its HTML was never laid out before."""
    html = render_template(template, **context)
    key = hashlib.sha256(html.encode("utf-8")).hexdigest()
    folder = _folder()
    path = folder / f"{key}.pdf"
    with suppress(FileNotFoundError):
        return path.read_bytes()
    data = render_pdf_from_html(html)
    _store(folder, path, data)
    return data


def _folder() -> Path:
    configured = current_app.config.get("DOCUMENT_CACHE_DIR")
    folder = (
        Path(configured) if configured else Path(current_app.instance_path) / "cache" / "documents"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _store(folder: Path, path: Path, data: bytes) -> None:
    """Write whole or not at all: a reader never sees half a file; two writers of one key
    write the same bytes."""
    handle, scratch = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    os.replace(scratch, path)
    _prune(folder)


def _prune(folder: Path) -> None:
    kept = int(current_app.config.get("DOCUMENT_CACHE_FILES", DEFAULT_KEPT_FILES))
    files = sorted(folder.glob("*.pdf"), key=lambda file: file.stat().st_mtime, reverse=True)
    for stale in files[kept:]:
        with suppress(FileNotFoundError):
            stale.unlink()
