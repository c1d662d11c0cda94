"""The visits blueprint; its routes live in the modules beside this one."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("visits", __name__, url_prefix="/visits")
