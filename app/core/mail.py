"""Mail as people read it: one Jinja template per kind of mail under `templates/mail/`,
rendered twice, as plain text and as HTML, inside one shared layout that names the
institute, the staff member responsible (charter standard 11) and, where it applies,
how to unsubscribe. The HTML has inline styles only and no remote images.

A kind's template extends `mail/_layout.html` and writes its content with the macros of
`mail/_blocks.html` (`p`, `button`, `facts`, `note`), which know which of the two parts
they are writing. Links in a template come from `external_url` (BASE_URL), never from
the request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from jinja2 import Environment, StrictUndefined

from app.core.links import external_url


@dataclass(frozen=True)
class Contact:
    """Who answers for a mail: named in its footer (standard 11)."""

    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class RenderedMail:
    text: str
    html: str


def staff_contact(user: Any | None = None) -> Contact:
    """The staff member who acted, or the education team's configured contact person."""
    from app.core.accounts.models import Role

    if user is not None and getattr(user, "role", None) == Role.STAFF:
        phone = user.phone or current_app.config["MAIL_CONTACT_PHONE"]
        return Contact(user.name, user.email, phone)
    config = current_app.config
    return Contact(
        config["MAIL_CONTACT_NAME"], config["MAIL_CONTACT_EMAIL"], config["MAIL_CONTACT_PHONE"]
    )


def kinds() -> list[str]:
    """Every kind of mail the product can send: the templates under templates/mail/."""
    return sorted(
        name.removeprefix("mail/").removesuffix(".html")
        for name in current_app.jinja_env.list_templates(extensions=["html"])
        if name.startswith("mail/") and not name.startswith("mail/_")
    )


def render(
    kind: str,
    *,
    subject: str,
    context: Mapping[str, Any],
    responsible: Contact | None = None,
    unsubscribe_url: str | None = None,
) -> RenderedMail:
    values = {
        **context,
        "subject": subject,
        "responsible": responsible or staff_contact(),
        "unsubscribe_url": unsubscribe_url,
        "institute_name": current_app.config["INSTITUTE_NAME"],
        "home_url": external_url("main.home"),
        "link": external_url,
    }
    name = f"mail/{kind}.html"
    text = _environment(html=False).get_template(name).render(values, mail_format="text")
    html = _environment(html=True).get_template(name).render(values, mail_format="html")
    return RenderedMail(text=_tidy_text(text), html=html.strip() + "\n")


def _environment(*, html: bool) -> Environment:
    """The app's Jinja environment (filters, gettext), escaping for HTML only."""
    key = "coursedesk.mail_env.html" if html else "coursedesk.mail_env.text"
    environments = current_app.extensions.setdefault("coursedesk.mail", {})
    if key not in environments:
        # StrictUndefined: a context that lacks a value fails where the mail is queued
        # (and in the tests), instead of sending a mail with a hole in it.
        environments[key] = current_app.jinja_env.overlay(
            autoescape=html, undefined=StrictUndefined
        )
    return environments[key]


_BLANK_LINES = re.compile(r"\n{3,}")


def _tidy_text(text: str) -> str:
    """Templates leave stray spaces and blank lines around blocks; a mail has neither."""
    lines = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", lines).strip() + "\n"
