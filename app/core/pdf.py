"""PDF rendering with WeasyPrint: one shared font configuration for every document, and
each document style parsed once per process.

Sharing the FontConfiguration keeps memory flat and roughly halves render time, because
fonts are loaded and subset once per process instead of once per document. A PDF
template's `<style>` element changes with the template, not with the data, yet WeasyPrint
parses it again for every document (about a quarter of a certificate's time): so it is
taken out of the HTML and handed to WeasyPrint as a stylesheet parsed once, kept by its
text (bench/bench_pdf_layout.py measures both).
"""

from __future__ import annotations

import functools
import re
import threading

from flask import current_app, render_template
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

_font_config: FontConfiguration | None = None
_lock = threading.Lock()
#: The document's own style sheet: the first <style> element (PDF templates have one).
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
#: Style sheets kept per process: PDF templates, times the languages and settings in them.
MAX_STYLESHEETS = 64


def font_configuration() -> FontConfiguration:
    global _font_config
    with _lock:
        if _font_config is None:
            _font_config = FontConfiguration()
        return _font_config


@functools.lru_cache(maxsize=MAX_STYLESHEETS)
def parsed_stylesheet(css: str) -> CSS:
    return CSS(string=css, font_config=font_configuration())


def render_pdf_from_html(html: str, *, base_url: str | None = None) -> bytes:
    base_url = base_url or current_app.static_folder
    stylesheets = []
    style = _STYLE.search(html)
    if style is not None:
        stylesheets.append(parsed_stylesheet(style.group(1)))
        html = html[: style.start()] + html[style.end() :]
    return HTML(string=html, base_url=base_url).write_pdf(
        font_config=font_configuration(), stylesheets=stylesheets
    )


def render_pdf(template: str, **context: object) -> bytes:
    return render_pdf_from_html(render_template(template, **context))
