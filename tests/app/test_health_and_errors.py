"""The health check, and clear 4xx pages instead of 500s."""

from __future__ import annotations

import pytest

from app import create_app
from tests.conftest import post_form


def test_healthz_reports_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path) -> None:
    missing = tmp_path / "no-such-directory" / "db.sqlite3"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] != "ok"


def test_unknown_pages_get_a_korean_404_page(client) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "페이지" in response.get_data(as_text=True)


def test_api_errors_are_json(client) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "/\t/evil.example", "/\\evil.example", "https://evil.example/", "/a\nb"],
)
def test_the_language_switch_never_redirects_off_the_site(client, target) -> None:
    response = post_form(client, "/lang/en", {"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_the_language_switch_returns_to_the_page_it_came_from(client) -> None:
    response = post_form(client, "/lang/en", {"next": "/courses/?year=2027"})
    assert response.headers["Location"] == "/courses/?year=2027"
