"""Links: absolute ones for mail and feeds (inside a request or from cron), and the one
check of a `next` address that a redirect may follow."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values: object) -> str:
    """An absolute URL: from the request's host when there is one, else from BASE_URL."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)


def same_site_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None: every `next=` goes through here.

    Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so a
    slash, a tab and `/evil.example`, or a slash, a backslash and `evil.example`, would
    leave the site as `//evil.example` does.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
