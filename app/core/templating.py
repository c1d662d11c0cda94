"""Template filters and globals shared by every page."""

from __future__ import annotations

from babel.dates import get_month_names
from flask import Flask, current_app, request, url_for
from flask_babel import format_date, get_locale
from markupsafe import Markup, escape

from app.core.formatting import hours, local_date, local_datetime, won
from app.core.links import external_url
from app.core.timeutil import local_today, utcnow


def paragraphs(text: str | None) -> Markup:
    """Plain text with blank lines as paragraphs and single newlines as line breaks."""
    if not text:
        return Markup("")
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in block.split("\n")))
        for block in blocks
    )


def month_name(month: int) -> str:
    return get_month_names("wide", locale=get_locale())[month]


def url_with(**changes: object) -> str:
    """The current URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    return url_for(request.endpoint or "main.home", **(request.view_args or {}), **args)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        localdt=local_datetime,
        localdate=local_date,
        won=won,
        hours=hours,
        paragraphs=paragraphs,
        month_name=month_name,
    )
    app.jinja_env.globals.update(
        url_with=url_with,
        format_date=format_date,
        now_local_date=local_today,
        now_utc=utcnow,
        external_url=external_url,  # a link to share or print: on BASE_URL, never the Host
    )

    @app.context_processor
    def institute() -> dict[str, object]:
        return {
            "institute_name": current_app.config["INSTITUTE_NAME"],
            "current_locale": str(get_locale()),
        }
