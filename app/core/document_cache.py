"""Documents made once per change of what they show.

WeasyPrint's layout is the expensive part of a PDF (the leaflet takes most of a second);
Jinja's HTML is cheaper. So `cached_pdf` keys a stored PDF by the SHA-256 of its HTML: it
changes with anything the document shows (a course, a translation, the template) and with
nothing else, without any rule to keep in step with the data.

At a big institute's scale even the HTML (and loading the courses for it) costs tens of
milliseconds, too much for a public document read all day. `stored` keys a document by a
stamp of its data instead, which the caller reads in one small query (the count and newest
change of the year's courses, say), together with the language, the settings printed in
documents and a fingerprint of the code and templates that make it: a hit reads a file.

Files live in `DOCUMENT_CACHE_DIR` (by default `instance/cache/documents`), one per key,
written whole by a rename; each machine keeps its own, and the newest
`DOCUMENT_CACHE_FILES` are kept.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path

from flask import current_app, render_template
from flask_babel import get_locale

from app.core.pdf import render_pdf_from_html

DEFAULT_KEPT_FILES = 200


def cached_pdf(template: str, **context: object) -> bytes:
    """The PDF of `template`, laid out only when its HTML was never laid out before."""
    html = render_template(template, **context)
    key = hashlib.sha256(html.encode("utf-8")).hexdigest()
    return _read_or_make(f"{key}.pdf", lambda: render_pdf_from_html(html))


#: The settings a document may print: part of every stamped key.
PRINTED_SETTINGS = ("INSTITUTE_NAME", "BASE_URL", "MAIL_CONTACT_NAME", "MAIL_CONTACT_PHONE")


def stored(kind: str, stamp: Sequence[object], make: Callable[[], bytes], suffix: str) -> bytes:
    """The document `make` returns for `stamp`, made only when this machine never stored
    it. `stamp` must change whenever the document would (its data's count and newest
    change); the language, the printed settings and the code are added here."""
    parts = [
        kind,
        *map(str, stamp),
        str(get_locale()),
        *(str(current_app.config.get(name, "")) for name in PRINTED_SETTINGS),
        code_fingerprint(),
    ]
    key = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return _read_or_make(f"{key}{suffix}", make)


def _read_or_make(name: str, make: Callable[[], bytes]) -> bytes:
    """The stored file `name`, or what `make` returns, stored under that name."""
    folder = _folder()
    path = folder / name
    with suppress(FileNotFoundError):
        return path.read_bytes()
    data = make()
    _store(folder, path, data)
    return data


#: What makes the documents: the code, the templates and the compiled translations.
_SOURCES = ("app", "courses", "certificates", "surveys", "visits", "templates")
_SOURCE_SUFFIXES = {".py", ".html", ".txt", ".ics", ".mo"}


@functools.cache
def code_fingerprint() -> str:
    """A hash of every source file a document may come from, read once per process: a
    release that changes how a document looks never serves the old one."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for top in _SOURCES:
        for path in sorted((root / top).rglob("*")):
            if path.suffix in _SOURCE_SUFFIXES and path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


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
    files = sorted(
        (file for file in folder.iterdir() if file.suffix != ".part"), key=_mtime, reverse=True
    )
    for stale in files[kept:]:
        with suppress(FileNotFoundError):
            stale.unlink()


def _mtime(file: Path) -> float:
    try:
        return file.stat().st_mtime
    except FileNotFoundError:  # pruned by another process meanwhile
        return 0.0
