"""The two tracing questions, answered from ``passage_trace`` with bound InfluxQL parameters:
where and when was this pass seen, and which passes went through this checkpoint."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from hub.influx.schema import TRACE
from hub.influx.v1 import InfluxV1
from hub.tracing.retention import iso

_COLUMNS = '"pass_id", "event_id", "checkpoint", "node", "direction", "decision", "reason"'


class Sighting(BaseModel):
    """One passage that showed a pass (the API answers with these, plus the holder hash)."""

    time: datetime
    ward_id: str
    checkpoint_id: str
    node_id: str
    direction: str
    decision: str
    reason: str
    pass_id: str
    event_id: str


# What a trace is by: the passage detail it matches (a field or a tag), from our own list.
BY = {"pass": '"pass_id" = $value', "checkpoint": '"checkpoint" = $value'}


def sightings(
    influx: InfluxV1,
    *,
    ward: str,
    by: str,
    value: str,
    start: datetime,
    end: datetime,
    limit: int,
) -> list[Sighting]:
    """The passages in ``ward`` within [start, end) that showed this pass (``by="pass"``)
    or went through this checkpoint (``by="checkpoint"``), oldest first."""
    params = {"ward": ward, "value": value, "start": iso(start), "end": iso(end)}
    # Tags named in SELECT come back as columns of one series, so ORDER BY and LIMIT apply
    # to all passages together (GROUP BY would limit each series apart).
    rows = influx.query(
        f'SELECT {_COLUMNS} FROM "{TRACE}" WHERE "ward" = $ward AND {BY[by]} '
        f"AND time >= $start AND time < $end ORDER BY time ASC LIMIT {int(limit)}",
        params,
    )
    return [
        Sighting(
            time=datetime.fromtimestamp(r["time"] / 1e9, UTC),
            ward_id=ward,
            checkpoint_id=r["checkpoint"],
            node_id=r["node"],
            direction=r["direction"],
            decision=r["decision"],
            reason=r["reason"],
            pass_id=r["pass_id"],
            event_id=r["event_id"],
        )
        for r in rows
    ]
