"""Query filters the API's list endpoints share."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Select


def narrowed(
    q: Select[Any],
    wards: tuple[ColumnElement[Any], Collection[str] | None],
    *equal: tuple[ColumnElement[Any], object],
) -> Select[Any]:
    """``q`` limited to the wards a key may see (None: all) and to ``column == value`` for
    each value given (None: any)."""
    column, visible = wards
    if visible is not None:
        q = q.where(column.in_(sorted(visible)))
    for column, value in equal:
        if value is not None:
            q = q.where(column == value)
    return q
