"""What the API reads from InfluxDB, as InfluxQL with bound parameters.

User input reaches InfluxDB only as ``$name`` parameters, which InfluxDB binds itself. The
only values formatted into query text are LIMIT/OFFSET integers that FastAPI has already
validated as bounded ints, and measurement names from our own fixed list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hub.influx.schema import MEASUREMENTS
from hub.influx.v1 import InfluxV1


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _time(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC)


@dataclass(frozen=True, slots=True)
class NodeHealth:
    node_id: str
    checkpoint_id: str
    ward_id: str
    last_seen: datetime
    fields: dict[str, Any]


def node_health(influx: InfluxV1, *, ward: str | None, checkpoint: str | None) -> list[NodeHealth]:
    """The latest health report of every node (optionally of one ward or checkpoint)."""
    where, params = [], {}
    if ward is not None:
        where.append('"ward" = $ward')
        params["ward"] = ward
    if checkpoint is not None:
        where.append('"checkpoint" = $checkpoint')
        params["checkpoint"] = checkpoint
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = influx.query(
        f'SELECT * FROM "health"{clause} GROUP BY "ward", "checkpoint", "node" '
        "ORDER BY time DESC LIMIT 1",
        params,
    )
    out = []
    for row in rows:
        fields = {k: v for k, v in row.items() if k not in ("time", "ward", "checkpoint", "node")}
        fields.pop("_measurement", None)
        out.append(
            NodeHealth(row["node"], row["checkpoint"], row["ward"], _time(row["time"]), fields)
        )
    return sorted(out, key=lambda n: n.node_id)


def node_ward(influx: InfluxV1, node_id: str) -> str | None:
    """The ward a node reports itself in (from any event it sent), or None if never seen."""
    for measurement in ("health", "passage", "reading"):
        rows = influx.query(
            f'SHOW TAG VALUES FROM "{measurement}" WITH KEY = "ward" WHERE "node" = $node',
            {"node": node_id},
        )
        if rows:
            return str(rows[0]["value"])
    return None


def node_events(
    influx: InfluxV1,
    node_id: str,
    *,
    measurement: str | None,
    start: datetime,
    end: datetime,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    names = [measurement] if measurement is not None else list(MEASUREMENTS)
    if not set(names) <= set(MEASUREMENTS):
        raise ValueError(f"unknown event type {measurement!r}")
    sources = ", ".join(f'"{m}"' for m in names)
    rows = influx.query(
        f'SELECT * FROM {sources} WHERE "node" = $node AND time >= $start AND time < $end '
        f"ORDER BY time DESC LIMIT {int(limit) + int(offset)}",
        {"node": node_id, "start": _iso(start), "end": _iso(end)},
    )
    # Several measurements come back as separate series: merge them newest first.
    rows.sort(key=lambda r: r["time"], reverse=True)
    page = rows[offset : offset + limit]
    for row in page:
        row["type"] = row.pop("_measurement")
        row["time"] = _iso(_time(row["time"]))
        for key in [k for k, v in row.items() if v is None]:
            del row[key]
    return page


def _latest(influx: InfluxV1, query: str, params: dict[str, str]) -> dict[str, Any] | None:
    rows = influx.query(f"{query} ORDER BY time DESC LIMIT 1", params)
    return rows[0] if rows else None


def last_config_ack(influx: InfluxV1, node_id: str, version: str) -> dict[str, Any] | None:
    query = 'SELECT "applied", "error" FROM "config_ack" WHERE "node" = $node AND "version" = $v'
    return _latest(influx, query, {"node": node_id, "v": version})


def command_result(influx: InfluxV1, node_id: str, command_id: str) -> dict[str, Any] | None:
    query = 'SELECT "ok", "detail" FROM "command_result" WHERE "node" = $node AND "command_id" = $c'
    return _latest(influx, query, {"node": node_id, "c": command_id})


@dataclass(frozen=True, slots=True)
class HourCount:
    hour: datetime
    ward_id: str
    checkpoint_id: str
    decision: str
    reason: str
    passages: int
    fevers: int


def hourly_counts(
    influx: InfluxV1, *, ward: str, checkpoint: str | None, start: datetime, end: datetime
) -> list[HourCount]:
    params = {"ward": ward, "start": _iso(start), "end": _iso(end)}
    extra = ""
    if checkpoint is not None:
        extra = ' AND "checkpoint" = $checkpoint'
        params["checkpoint"] = checkpoint
    rows = influx.query(
        'SELECT count("duration_ms") AS passages FROM "passage" '
        f'WHERE "ward" = $ward AND time >= $start AND time < $end{extra} '
        'GROUP BY time(1h), "ward", "checkpoint", "decision", "reason" fill(none)',
        params,
    )
    # InfluxQL cannot count a boolean conditionally in one pass: a second query with the
    # condition in WHERE gives the fevers of each group.
    fevers = influx.query(
        'SELECT count("fever") AS fevers FROM "passage" '
        f'WHERE "ward" = $ward AND "fever" = true AND time >= $start AND time < $end{extra} '
        'GROUP BY time(1h), "ward", "checkpoint", "decision", "reason" fill(none)',
        params,
    )
    fever_by = {
        (r["time"], r["checkpoint"], r["decision"], r["reason"]): r["fevers"] for r in fevers
    }
    return [
        HourCount(
            hour=_time(r["time"]),
            ward_id=r["ward"],
            checkpoint_id=r["checkpoint"],
            decision=r["decision"],
            reason=r["reason"],
            passages=int(r["passages"]),
            fevers=int(fever_by.get((r["time"], r["checkpoint"], r["decision"], r["reason"]), 0)),
        )
        for r in rows
    ]


def last_passages(influx: InfluxV1, *, since: datetime) -> dict[tuple[str, str], datetime]:
    """(ward, checkpoint) -> time of its latest passage since ``since``."""
    rows = influx.query(
        'SELECT last("duration_ms") FROM "passage" WHERE time >= $since '
        'GROUP BY "ward", "checkpoint"',
        {"since": _iso(since)},
    )
    return {(r["ward"], r["checkpoint"]): _time(r["time"]) for r in rows}
