"""An alert as the store holds it, and its contract message for the command centre."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row

from checkpoint.contract.alerts import AlertChange, AlertMessage, AlertNotice, AlertState
from hub.alerts.signals import Severity

SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
TIME_FIELDS = (
    "opened_at",
    "updated_at",
    "last_seen_at",
    "acknowledged_at",
    "resolved_at",
    "escalated_at",
    "clear_since",
)


def utc(value: datetime) -> datetime:
    """SQLite gives back naive datetimes (we store UTC); PostgreSQL the session's zone."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def opt_utc(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    ward_id: str
    subject: str
    checkpoint_id: str | None
    node_id: str | None
    kind: str
    severity: Severity
    state: AlertState
    summary: str
    details: dict[str, Any]
    count: int
    flips: int
    flapping: bool
    opened_at: datetime
    updated_at: datetime
    last_seen_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    note: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    escalated_at: datetime | None
    clear_since: datetime | None
    resolve_after_s: float | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Alert:
        return cls.from_mapping(row._mapping)

    @classmethod
    def from_mapping(cls, m: Mapping[Any, Any]) -> Alert:
        """From a row's columns, or the values an alert was inserted with (a column not
        among them is NULL)."""
        # The columns are named as the fields; times come back naive from SQLite.
        values: dict[str, Any] = {f.name: m.get(f.name) for f in fields(cls)}
        for name in TIME_FIELDS:
            values[name] = opt_utc(values[name])
        values["state"] = AlertState(values["state"])
        values["details"] = dict(values["details"] or {})
        values["flapping"] = bool(values["flapping"])
        return cls(**values)

    @property
    def active(self) -> bool:
        return self.state != AlertState.RESOLVED

    def message(self, change: AlertChange, notice: AlertNotice | None = None) -> AlertMessage:
        details = dict(self.details)
        if self.flapping:
            details["flapping"] = True
        if self.escalated_at is not None:
            details["escalated_at"] = self.escalated_at.isoformat()
        if self.acknowledged_by is not None:
            details["acknowledged_by"] = self.acknowledged_by
        if self.resolved_by is not None:
            details["resolved_by"] = self.resolved_by
        if self.note:
            details["note"] = self.note
        return AlertMessage(
            alert_id=self.id,
            change=change,
            state=self.state,
            kind=self.kind,
            severity=self.severity,
            ward_id=self.ward_id,
            checkpoint_id=self.checkpoint_id,
            node_id=self.node_id,
            summary=self.summary[:512],
            count=self.count,
            opened_at=self.opened_at,
            updated_at=self.updated_at,
            details=details,
            notice=notice,
        )
