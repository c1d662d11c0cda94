"""A few seconds of memory for the public pages that anonymous visitors read most.

The home page, the catalog, the calendar and its feeds and leaflet are the same for every
anonymous visitor in one language, and cost tens of milliseconds of queries and
templates each. `@shared_briefly` keeps such a page for `PUBLIC_PAGE_CACHE_SECONDS`
(default 10) in each process and serves it again as is: a visitor may see a seat count
up to that old, never another person's page. It never caches for a signed-in person, a
request with messages waiting (flashes), a page that touched the session (a CSRF token
was made, something was flashed) or set a cookie, or anything but a 200.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Response, current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])

#: Pages kept per process; the oldest goes first.
MAX_PAGES = 500
_SKIPPED_HEADERS = {"set-cookie", "date", "content-length"}


@dataclass(frozen=True)
class _Page:
    expires: float
    status: int
    headers: list[tuple[str, str]]
    body: bytes


_pages: OrderedDict[tuple[str, str], _Page] = OrderedDict()
_lock = threading.Lock()


def shared_briefly(view: F) -> F:
    """Serve the view's page to anonymous visitors from memory for a few seconds."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        seconds = current_app.config.get("PUBLIC_PAGE_CACHE_SECONDS", 10)
        if not seconds or not _anonymous_read():
            return view(*args, **kwargs)
        key = (request.full_path, str(get_locale()))
        page = _lookup(key)
        if page is not None:
            shared = Response(page.body, status=page.status, headers=page.headers)
            shared.make_conditional(request)  # a feed's ETag still answers 304
            del shared.headers["Date"]  # the server writes its own (one Date only)
            return shared
        response = current_app.make_response(view(*args, **kwargs))
        if _shareable(response):
            _store(key, response, seconds)
        return response

    return wrapper  # type: ignore[return-value]


def clear() -> None:
    with _lock:
        _pages.clear()


def _anonymous_read() -> bool:
    return (
        request.method in ("GET", "HEAD")
        and not current_user.is_authenticated
        and "_flashes" not in session
    )


def _shareable(response: Response) -> bool:
    return (
        response.status_code == 200
        and not response.direct_passthrough
        and not session.modified
        and "Set-Cookie" not in response.headers
        and not response.cache_control.private
        and not response.cache_control.no_store
    )


def _lookup(key: tuple[str, str]) -> _Page | None:
    with _lock:
        page = _pages.get(key)
        if page is None or page.expires < time.monotonic():
            _pages.pop(key, None)
            return None
        return page


def _store(key: tuple[str, str], response: Response, seconds: float) -> None:
    headers = [
        (name, value) for name, value in response.headers if name.lower() not in _SKIPPED_HEADERS
    ]
    page = _Page(time.monotonic() + seconds, response.status_code, headers, response.get_data())
    with _lock:
        _pages[key] = page
        _pages.move_to_end(key)
        while len(_pages) > MAX_PAGES:
            _pages.popitem(last=False)
