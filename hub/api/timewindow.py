"""Bounded time ranges for queries: every range has a start, an end and a maximum length."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import HTTPException, status

# InfluxDB stores nanoseconds since 1970 in an int64: keep well inside what it can answer.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def window(
    since: datetime | None, until: datetime | None, *, default: timedelta, maximum: timedelta
) -> tuple[datetime, datetime]:
    """The [start, end) to query; 422 when it is reversed, too long or out of range."""
    end = _aware(until) if until is not None else datetime.now(UTC)
    try:
        start = _aware(since) if since is not None else end - default
    except OverflowError:  # an end near year 1 minus the default range: before datetime.min
        start = datetime.min.replace(tzinfo=UTC)  # out of range, refused below
    problem = None
    if not (EARLIEST <= start <= LATEST and EARLIEST <= end <= LATEST):
        problem = f"times must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}"
    elif not timedelta(0) < end - start <= maximum:
        problem = f"since must be before until, and the range at most {maximum.days} days"
    if problem is not None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["query", "since"], "msg": problem, "type": "value_error"}],
        )
    return start, end
