"""The InfluxDB schema: which point each event and each alert change becomes (documented in
docs/influx-schema.md).

Tags are low-cardinality only (ward, checkpoint, node, and small enums); event ids and
pass ids are fields, never tags.

A redelivered event must become *the same point* so that InfluxDB overwrites it instead of
storing it twice. A point is identified by measurement, tag set and timestamp, so the
timestamp is derived from the event alone: its time truncated to the millisecond, plus the
node's sequence number modulo 10^6 in the sub-millisecond digits. Two different events of
one node in the same millisecond have different sequence numbers, so they never collide.
"""

from __future__ import annotations

from checkpoint.contract import (
    AlertMessage,
    BarrierAlarm,
    CommandResult,
    ConfigAck,
    Event,
    Health,
    Passage,
    Reading,
    UpdateReport,
)
from hub.influx.lineproto import (
    FieldValue,
    Point,
    float_field,
    int_field,
    string_field,
    tag_prefix,
)

MEASUREMENTS = (
    "reading",
    "passage",
    "barrier",
    "health",
    "config_ack",
    "command_result",
    "update",
    "alert",  # alert_point: one point per alert change, drawn by Grafana as annotations
)
# The pass id of each passage, apart from the passage's counts so that it can be dropped
# after the tracing retention (hub/tracing/retention.py) while the counts stay.
TRACE = "passage_trace"


def point_time_ns(event: Event) -> int:
    ms = int(event.ts.timestamp() * 1000)
    return ms * 1_000_000 + event.seq % 1_000_000


def _base_tags(event: Event) -> dict[str, str]:
    return {"ward": event.ward_id, "checkpoint": event.checkpoint_id, "node": event.node_id}


def _put(fields: dict[str, FieldValue], key: str, value: FieldValue | None) -> None:
    if value is not None:  # line protocol has no null: absent means unknown
        fields[key] = value


def _passage(event: Passage, tags: dict[str, str], fields: dict[str, FieldValue]) -> None:
    """A passage's tags and fields: the decision, and what it was made of."""
    tags |= {
        "direction": event.direction,
        "decision": event.decision.value,
        "reason": event.reason.value,
        "level": event.zone_level,
    }
    fields |= {"duration_ms": event.duration_ms, "admitted": event.decision == "admit"}
    if (t := event.temperature) is not None:
        _put(fields, "temp_c", t.first_c)
        _put(fields, "temp_second_c", t.second_c)
        _put(fields, "ambient_c", t.ambient_c)
        fields["fever"] = t.fever
    if (p := event.pass_check) is not None:
        _put(fields, "pass_category", p.category)
        fields["pass_valid"] = p.valid
        _put(fields, "trust_version", p.trust_version)
        _put(fields, "revocation_version", p.revocation_version)
        _put(fields, "trust_age_s", p.trust_age_s)
    if (b := event.barrier) is not None:
        fields["barrier_opened"] = b.opened
        fields["barrier_closed"] = b.closed
        _put(fields, "barrier_open_s", b.open_s)
        _put(fields, "barrier_fault", b.fault)
    if (o := event.override) is not None:
        fields["override_reason"] = o.reason.value
        fields["override_operator"] = o.operator
    _put(fields, "operator", event.operator)
    _put(fields, "shift", event.shift)
    _put(fields, "zone_id", event.zone_id)


def event_point(event: Event) -> Point:
    tags = _base_tags(event)
    fields: dict[str, FieldValue] = {"event_id": event.id, "seq": event.seq}
    match event:
        case Reading():
            fields |= {
                "object_c": event.object_c,
                "ambient_c": event.ambient_c,
                "samples": event.samples,
                "spread_c": event.spread_c,
                "emissivity": event.emissivity,
            }
        case Passage():
            _passage(event, tags, fields)
        case BarrierAlarm():
            tags["kind"] = event.kind.value
            _put(fields, "duration_s", event.duration_s)
            fields["detail"] = event.detail
        case Health():
            fields |= {
                "uptime_s": event.uptime_s,
                "disk_free_bytes": event.disk_free_bytes,
                "outbox_depth": event.outbox_depth,
                "outbox_dropped": event.outbox_dropped,
                "sensor_errors": sum(event.sensor_errors.values()),
                "config_version": event.config_version,
                "software_version": event.software_version,
                "flags": ",".join(event.flags),
            }
            _put(fields, "cpu_temp_c", event.cpu_temp_c)
            _put(fields, "camera_fps", event.camera_fps)
            _put(fields, "levels_version", event.levels_version)
            _put(fields, "policy_version", event.policy_version)
            _put(fields, "operator", event.operator)
            _put(fields, "shift", event.shift)
        case ConfigAck():
            fields |= {"version": event.version, "applied": event.applied}
            _put(fields, "error", event.error)
        case CommandResult():
            tags["command"] = event.command
            fields |= {"command_id": event.command_id, "ok": event.ok, "detail": event.detail}
        case UpdateReport():
            tags["status"] = event.status.value
            fields |= {
                "from_version": event.from_version,
                "to_version": event.to_version,
                "why": event.reason
                or "",  # not "reason": a tag of passage (InfluxQL SELECT * across measurements)
                "detail": event.detail,
            }
    return Point(event.type.value, tags, fields, point_time_ns(event))


def alert_point(message: AlertMessage) -> Point:
    """The ``alert`` measurement. The alert id is a field; the point time is the change's
    ``updated_at``, so a change delivered twice overwrites its own point."""
    tags = {
        "ward": message.ward_id,
        "checkpoint": message.checkpoint_id or "",
        "node": message.node_id or "",
        "kind": message.kind,
        "severity": message.severity,
        "change": message.change.value,
        "state": message.state.value,
    }
    fields: dict[str, FieldValue] = {
        "alert_id": message.alert_id,
        "summary": message.summary,
        "count": message.count,
        "open_s": (message.updated_at - message.opened_at).total_seconds(),
    }
    time_ns = int(message.updated_at.timestamp() * 1_000_000) * 1000
    return Point("alert", tags, fields, time_ns)


def trace_point(event: Event) -> Point | None:
    """The ``passage_trace`` point of a passage that showed a pass id (same time as its
    ``passage`` point), else None."""
    if not isinstance(event, Passage) or event.pass_check is None:
        return None
    if event.pass_check.pass_id is None:
        return None
    tags = _base_tags(event) | {
        "direction": event.direction,
        "decision": event.decision.value,
        "reason": event.reason.value,
    }
    fields: dict[str, FieldValue] = {"pass_id": event.pass_check.pass_id, "event_id": event.id}
    return Point(TRACE, tags, fields, point_time_ns(event))


def event_line(event: Event) -> tuple[str, int]:
    """The event's point as one line of line protocol, and the point's time: the same
    as ``event_point(event).to_line()``, built directly for a reading (nine in ten
    events; this runs for each)."""
    if type(event) is not Reading:
        point = event_point(event)
        return point.to_line(), point.time_ns
    time_ns = point_time_ns(event)
    prefix = tag_prefix(
        "reading",
        (("checkpoint", event.checkpoint_id), ("node", event.node_id), ("ward", event.ward_id)),
    )
    fields = (
        f"event_id={string_field(event.id)},seq={int_field(event.seq)},"
        f"object_c={float_field(event.object_c)},ambient_c={float_field(event.ambient_c)},"
        f"samples={int_field(event.samples)},spread_c={float_field(event.spread_c)},"
        f"emissivity={float_field(event.emissivity)}"
    )
    return f"{prefix} {fields} {time_ns}", time_ns
