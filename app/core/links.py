"""Links: absolute ones for mail, documents and feeds, and the one check of a `next`
address that a redirect may follow.

Absolute links come from the configured `BASE_URL` only, never from the request: a
forged `Host` header must not be able to put another site's address into a password
reset mail or a certificate's QR code. The factory also refuses requests for any host
but BASE_URL's (`trusted_hosts`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app


def external_url(endpoint: str, **values: object) -> str:
    """An absolute URL on BASE_URL, the same inside a request, in cron and in the demo."""
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


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def trusted_hosts(app: Flask) -> list[str]:
    """The host names requests may be addressed to: BASE_URL's, and any configured extra.

    A site on loopback (development, the demo) answers to every loopback name: links are
    built from BASE_URL anyway, and nobody else can reach it.
    """
    host = urlsplit(app.config["BASE_URL"]).hostname or "localhost"
    names = list(LOOPBACK_NAMES) if host in LOOPBACK_NAMES else [host]
    return [*names, *app.config.get("EXTRA_TRUSTED_HOSTS", [])]
