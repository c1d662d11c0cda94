"""The pages of on-site training requests and CP mentoring: one blueprint, a module each.

Each route module imports `bp` from `visits.views.blueprint` and adds its routes;
importing them here registers them all before the factory registers the blueprint.
"""

from __future__ import annotations

from visits.views import mentoring, onsite  # noqa: F401  (imported for their routes)
from visits.views.blueprint import bp

__all__ = ["bp"]
