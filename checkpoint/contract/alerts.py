"""Hub -> command centre: one ``AlertMessage`` per alert change and per notification, on
``checkpoint/v1/alerts/<ward>`` (docs/contract.md, "Alert messages")."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from checkpoint.contract.models import SCHEMA_VERSION, Id, WireModel


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertChange(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    ESCALATED = "escalated"
    RENOTIFIED = "renotified"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertNotice(WireModel):
    """One notification of an unacknowledged alert to a tier of the ward's escalation chain."""

    number: int = Field(ge=1, description="Notices of this alert so far, this one included")
    tier: int = Field(ge=0, description="Position in the escalation chain; 0 is the first tier")
    tier_name: str = Field(max_length=64, description="Who the tier reaches")
    targets: list[str] = Field(
        max_length=32, description="Where this notice goes: mqtt, console, webhook:<name>"
    )
    at: AwareDatetime = Field(description="When it was sent")
    next_at: AwareDatetime | None = Field(
        default=None,
        description="When the next re-send or escalation falls if nobody acknowledges; null: none",
    )


class AlertMessage(WireModel):
    v: Literal[1] = SCHEMA_VERSION
    alert_id: str
    change: AlertChange
    state: AlertState
    kind: str = Field(max_length=48)
    severity: Literal["info", "warning", "critical"]
    ward_id: Id
    checkpoint_id: str | None = None
    node_id: str | None = None
    summary: str = Field(max_length=512)
    count: int = Field(ge=1, description="Occurrences folded into this alert")
    opened_at: datetime
    updated_at: datetime
    details: dict[str, Any] = Field(default_factory=dict)
    notice: AlertNotice | None = Field(
        default=None,
        description="On notifications (change new, renotified, escalated): the tier told",
    )
