"""One transaction per action: the request commits once, or nothing of it stays."""

from __future__ import annotations

import pytest
from flask import Flask, redirect
from sqlalchemy import func, select

from app.core import audit, unit_of_work
from app.core.access import public
from app.core.audit import AuditEntry
from app.core.errors import DomainError
from app.core.extensions import csrf, db


def entries() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


@pytest.fixture
def routes(app: Flask) -> Flask:
    """Routes that write an audit row and then end in different ways."""

    def write(action: str) -> None:
        audit.record(action, None, by=None, object_type="test")
        db.session.flush()

    @public
    def read_page():
        write("written.by.get")
        return "ok"

    @public
    def succeed():
        write("written.by.post")
        return redirect("/")

    @public
    def refuse():
        write("before.refusal")
        try:
            raise DomainError("refused")
        except DomainError:
            return redirect("/")  # a view that shows the refusal on the next page

    @public
    def bulk():
        write("bulk.start")
        for number in range(3):
            try:
                with unit_of_work.step():
                    write(f"bulk.{number}")
                    if number == 1:
                        raise DomainError("this one is refused")
            except DomainError:
                pass
        return redirect("/")

    @public
    def crash():
        write("before.crash")
        raise RuntimeError("boom")

    for name, view, methods in [
        ("read_page", read_page, ["GET"]),
        ("succeed", succeed, ["POST"]),
        ("refuse", refuse, ["POST"]),
        ("bulk", bulk, ["POST"]),
        ("crash", crash, ["POST"]),
    ]:
        app.add_url_rule(f"/test-uow/{name}", name, csrf.exempt(view), methods=methods)
    return app


def test_a_post_that_succeeds_commits_once(routes, client) -> None:
    assert client.post("/test-uow/succeed").status_code == 302
    assert entries() == 1


def test_a_get_changes_nothing_even_when_its_handler_writes(routes, client) -> None:
    assert client.get("/test-uow/read_page").status_code == 200
    assert entries() == 0


def test_a_refused_operation_leaves_nothing_even_when_the_view_catches_it(routes, client) -> None:
    assert client.post("/test-uow/refuse").status_code == 302
    assert entries() == 0


def test_a_refused_step_undoes_only_that_step(routes, client) -> None:
    assert client.post("/test-uow/bulk").status_code == 302
    db.session.expire_all()
    actions = set(db.session.execute(select(AuditEntry.action)).scalars())
    assert actions == {"bulk.start", "bulk.0", "bulk.2"}


def test_an_unexpected_error_rolls_everything_back(routes, client) -> None:
    assert client.post("/test-uow/crash").status_code == 500
    assert entries() == 0


def test_the_cli_unit_commits_at_the_end_or_not_at_all(app) -> None:
    with pytest.raises(RuntimeError), unit_of_work.unit_of_work():
        audit.record("cli.failed", None, by=None, object_type="test")
        raise RuntimeError("boom")
    assert entries() == 0
    with unit_of_work.unit_of_work():
        audit.record("cli.done", None, by=None, object_type="test")
    db.session.remove()
    assert entries() == 1
