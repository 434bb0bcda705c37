"""The alert tables on the hub's state store (``hub.state.metadata``)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from hub.state import metadata

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("ward_id", String(64), nullable=False),
    Column("subject", String(80), nullable=False),
    Column("checkpoint_id", String(64)),
    Column("node_id", String(64)),
    Column("kind", String(48), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("summary", String(512), nullable=False),
    Column("details", JSON, nullable=False),
    Column("count", Integer, nullable=False),
    Column("flips", Integer, nullable=False, default=0),
    Column("flapping", Boolean, nullable=False, default=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),  # last occurrence
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("acknowledged_by", String(64)),
    Column("note", String(512)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", String(64)),
    Column("escalated_at", DateTime(timezone=True)),
    Column("clear_since", DateTime(timezone=True)),
    Column("resolve_after_s", Float),
)
# One active alert per (subject, kind), enforced by the database too, so that two hub
# instances racing on the same condition cannot both open one.
Index(
    "alerts_one_active",
    alerts.c.subject,
    alerts.c.kind,
    unique=True,
    sqlite_where=text("state != 'resolved'"),
    postgresql_where=text("state != 'resolved'"),
)
Index("alerts_by_state", alerts.c.state, alerts.c.updated_at)

# Where each alert stands in its ward's escalation chain (hub/alerts/escalation.py): the
# tier, since when, the notices sent, and when the next one falls. next_at is NULL once
# nobody needs telling again (acknowledged, resolved, or a chain that neither re-sends nor
# escalates). A table of its own, so that a state store made before it gains it on start.
alert_escalation = Table(
    "alert_escalation",
    metadata,
    Column("alert_id", String(36), primary_key=True),
    Column("tier", Integer, nullable=False),
    Column("tier_at", DateTime(timezone=True), nullable=False),
    Column("notices", Integer, nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("next_at", DateTime(timezone=True)),
)
Index("alert_escalation_due", alert_escalation.c.next_at)

# Changes waiting to be delivered, one row per (change, target), in change order.
alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", String(36), nullable=False),
    Column("target", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", DateTime(timezone=True), nullable=False),
    Column("last_error", String(512)),
)
Index("alert_outbox_by_target", alert_outbox.c.target, alert_outbox.c.id)

# Every change of every alert, in the order made: the API's live stream and an alert's
# history read it. Written in the transaction that makes the change; pruned after
# AlertsConfig.history_days.
alert_changes = Table(
    "alert_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", String(36), nullable=False, index=True),
    Column("ward_id", String(64), nullable=False),
    Column("change", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("payload", Text, nullable=False),  # the contract AlertMessage, as on MQTT
)

# Event ids already derived from, so that a redelivered batch raises nothing twice.
derived_events = Table(
    "derived_events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
)

# Rule state that must survive a restart (learned traffic, node registry), by key.
rule_state = Table(
    "rule_state",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", JSON, nullable=False),
)
