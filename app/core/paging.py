"""Numbered pages of a list: where one page sits in the whole."""

from __future__ import annotations


class NumberedPage:
    """For a page dataclass with `number` (from 1), `size` and `total` fields."""

    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages
