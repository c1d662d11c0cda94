"""One transaction per action.

Services change state and flush; they never commit. The action that called them commits
once: a request when its handler has returned, a CLI command per unit of work it
documents (a course in `announce-due`, a message in `outbox send`). Any exception, and
any error response, rolls the whole action back, including the mail it queued in the
outbox, so a failure half-way leaves nothing half-done behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response, g, request

from app.core.errors import REFUSED, DomainError
from app.core.extensions import db

#: Methods that must not change domain state; their transaction is always rolled back.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    app.after_request(_end_request_transaction)
    app.teardown_request(_discard_unfinished_transaction)


def _end_request_transaction(response: Response) -> Response:
    """Commit a state-changing request that succeeded; roll back everything else: safe
    methods, error responses and requests whose operation was refused (a DomainError)."""
    refused = g.get(REFUSED, False)
    if request.method in SAFE_METHODS or response.status_code >= 400 or refused:
        db.session.rollback()
    else:
        db.session.commit()
    return response


def _discard_unfinished_transaction(error: BaseException | None) -> None:
    # Reached with an error when the handler or the commit raised: nothing of it stays.
    if error is not None:
        db.session.rollback()


@contextmanager
def step() -> Iterator[None]:
    """One step of a larger action that goes on when the step is refused (one address of a
    bulk enrolment, say): a DomainError undoes only this step, in a savepoint, and does not
    count as a refusal of the whole request. The caller catches the error."""
    refused_before = g.get(REFUSED, False)
    try:
        with db.session.begin_nested():
            yield
    except DomainError:
        setattr(g, REFUSED, refused_before)
        raise


@contextmanager
def unit_of_work() -> Iterator[None]:
    """For CLI commands and other work outside a request: commit once at the end of the
    block, or roll the block back if it raises."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
