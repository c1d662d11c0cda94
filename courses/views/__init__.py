"""The pages of the courses feature: one blueprint, its routes grouped by topic.

Each route module imports `bp` from `courses.views.blueprint` and adds its routes;
importing them here registers them all before the factory registers the blueprint.
"""

from __future__ import annotations

from courses.views import (  # noqa: F401  (imported for their routes)
    announcements,
    api,
    calendar,
    catalog,
    certificates,
    demand,
    enrolment,
    management,
    roster,
)
from courses.views.blueprint import bp

__all__ = ["bp"]
