"""The two tracing questions, answered from ``passage_trace`` with bound InfluxQL parameters:
where and when was this pass seen, and which passes went through this checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hub.influx.schema import TRACE
from hub.influx.v1 import InfluxV1
from hub.tracing.retention import iso

_COLUMNS = '"pass_id", "event_id", "checkpoint", "node", "direction", "decision", "reason"'


@dataclass(frozen=True, slots=True)
class Sighting:
    time: datetime
    ward_id: str
    checkpoint_id: str
    node_id: str
    direction: str
    decision: str
    reason: str
    pass_id: str
    event_id: str


def _sightings(
    influx: InfluxV1, condition: str, params: dict[str, str], *, limit: int
) -> list[Sighting]:
    # Tags named in SELECT come back as columns of one series, so ORDER BY and LIMIT apply
    # to all passages together (GROUP BY would limit each series apart).
    rows = influx.query(
        f'SELECT {_COLUMNS} FROM "{TRACE}" WHERE "ward" = $ward AND {condition} '
        f"AND time >= $start AND time < $end ORDER BY time ASC LIMIT {int(limit)}",
        params,
    )
    return [
        Sighting(
            time=datetime.fromtimestamp(r["time"] / 1e9, UTC),
            ward_id=params["ward"],
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


def pass_seen(
    influx: InfluxV1, *, ward: str, pass_id: str, start: datetime, end: datetime, limit: int
) -> list[Sighting]:
    """Every passage that showed ``pass_id`` in the ward within [start, end), oldest first."""
    params = {"ward": ward, "pass_id": pass_id, "start": iso(start), "end": iso(end)}
    return _sightings(influx, '"pass_id" = $pass_id', params, limit=limit)


def checkpoint_passed(
    influx: InfluxV1, *, ward: str, checkpoint: str, start: datetime, end: datetime, limit: int
) -> list[Sighting]:
    """Every passage with a pass at ``checkpoint`` within [start, end), oldest first."""
    params = {"ward": ward, "checkpoint": checkpoint, "start": iso(start), "end": iso(end)}
    return _sightings(influx, '"checkpoint" = $checkpoint', params, limit=limit)
