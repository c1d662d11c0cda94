"""What a screen reader needs from a page, checked in its HTML: ids used once, every
form control named, headings that do not skip a level, table headers that say something,
and filter choices that can be told apart. (The browser suite runs no axe-core yet.)"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from html.parser import HTMLParser

from app.core.accounts.models import Role
from app.core.extensions import db
from surveys import services as surveys
from tests.conftest import login
from tests.factories import make_course, make_user, publish_year
from tests.surveys.test_surveys import attendee, ended_course, invitation_for


class Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.labels_for: set[str] = set()
        self.controls: list[dict] = []
        self.headings: list[int] = []
        self.empty_headers = 0
        self.options: dict[str, list[str]] = {}
        self._th: list[str] | None = None
        self._select: str | None = None
        self._option: list[str] | None = None
        self._label_depth = 0

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if "id" in a:
            self.ids[a["id"]] += 1
        if tag == "label":
            self._label_depth += 1
            if "for" in a:
                self.labels_for.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append({**a, "_wrapped": self._label_depth > 0})
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(int(tag[1]))
        if tag == "th":
            self._th = []
        if tag == "select":
            self._select = a.get("name", "?")
            self.options[self._select] = []
        if tag == "option" and self._select:
            self._option = []

    def handle_endtag(self, tag) -> None:
        if tag == "label":
            self._label_depth -= 1
        if tag == "th" and self._th is not None:
            self.empty_headers += not "".join(self._th).strip()
            self._th = None
        if tag == "option" and self._option is not None and self._select:
            self.options[self._select].append("".join(self._option).strip())
            self._option = None
        if tag == "select":
            self._select = None

    def handle_data(self, data) -> None:
        if self._th is not None:
            self._th.append(data)
        if self._option is not None:
            self._option.append(data)


def check(html: str) -> Structure:
    page = Structure()
    page.feed(html)
    assert [i for i, n in page.ids.items() if n > 1] == [], "an id used twice"
    unnamed = [
        c
        for c in page.controls
        if not c["_wrapped"]
        and c.get("id") not in page.labels_for
        and not c.get("aria-label")
        and not c.get("aria-labelledby")
    ]
    assert unnamed == [], unnamed
    assert page.headings and page.headings[0] == 1
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, f"h{before} followed by h{after}"
    assert page.empty_headers == 0
    for name, labels in page.options.items():
        assert len(labels) == len(set(labels)), f"{name}: {labels}"
    return page


def test_the_catalog_and_calendar(client) -> None:
    make_course(starts=datetime(2027, 3, 10, 10, 0))
    publish_year(2027)
    page = check(client.get("/courses/").get_data(as_text=True))
    assert page.options["audience"][0] == "전체" and page.options["size"]
    check(client.get("/calendar/2027").get_data(as_text=True))


def test_the_survey_form(client) -> None:
    enrollment = attendee(ended_course())
    surveys.invite_post_course()
    db.session.commit()
    page = check(client.get(f"/surveys/{invitation_for(enrollment).token}").get_data(as_text=True))
    assert any(c.get("aria-labelledby") for c in page.controls)  # the free-text answer


def test_the_roster_and_the_verification_pages(client) -> None:
    course = make_course(starts=datetime(2027, 3, 10, 10, 0))
    login(client, make_user(Role.STAFF).email)
    check(client.get(f"/courses/{course.id}/roster").get_data(as_text=True))
    check(client.get("/certificates/verify/").get_data(as_text=True))
