"""The courses blueprint; its routes live in the modules beside this one."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("courses", __name__)
