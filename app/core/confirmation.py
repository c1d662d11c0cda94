"""A page that asks before an action that cannot be undone, without any script.

The action's button on its page is a link to the action's URL; a GET of that URL shows
this page, whose form posts to the same URL, as before. So the POST stays what other
tools rely on, and a person always sees what will happen before it does.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import render_template

from app.core.forms import ConfirmForm


def confirmation_page(
    *,
    title: str,
    action: str,
    confirm: str,
    back: str,
    consequences: Sequence[str] = (),
    danger: bool = True,
) -> str:
    """`action`: the URL the confirmed form posts to; `back`: where "keep it" leads."""
    return render_template(
        "confirm.html",
        form=ConfirmForm(),
        title=title,
        action=action,
        confirm=confirm,
        back=back,
        consequences=consequences,
        danger=danger,
    )
