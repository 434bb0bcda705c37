"""The ``alert`` measurement: one point per alert change, drawn by Grafana as annotations.

Tags are low-cardinality (ward, checkpoint, node, kind, severity, change, state); the alert
id is a field. The point time is the change's ``updated_at``, so a change delivered twice
overwrites its own point.
"""

from __future__ import annotations

from checkpoint.contract.models import AlertMessage
from hub.influx.lineproto import FieldValue, Point

MEASUREMENT = "alert"


def alert_point(message: AlertMessage) -> Point:
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
    return Point(MEASUREMENT, tags, fields, time_ns)
