"""Korean first, English on request; the Korean catalog covers every string in the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from tests.conftest import post_form

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _catalog(language: str):
    with open(ROOT / "app" / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def test_the_korean_catalog_translates_every_message_in_the_code(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("pybabel")),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            "--no-location",
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with open(pot, "rb") as f:
        wanted = {
            message.id if isinstance(message.id, str) else message.id[0]
            for message in read_po(f)
            if message.id
        }
    korean = _catalog("ko")
    translated = {
        (message.id if isinstance(message.id, str) else message.id[0])
        for message in korean
        if message.id
        and all(message.string if isinstance(message.string, tuple) else (message.string,))
        and not message.fuzzy
    }
    missing = sorted(wanted - translated)
    assert missing == [], f"untranslated in ko: {missing}"


def test_korean_translations_keep_their_placeholders() -> None:
    for message in _catalog("ko"):
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == set(PLACEHOLDER.findall(source)), source


def test_pages_are_korean_by_default_and_english_on_request(client) -> None:
    assert "로그인" in client.get("/auth/login").get_data(as_text=True)
    post_form(client, "/lang/en", {"next": "/auth/login"})
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Sign in" in page
    assert 'lang="en"' in page
