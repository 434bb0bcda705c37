"""Payload models of the MQTT contract, version 1.

Every payload is JSON with ``"v": 1``. Events from nodes share one envelope (id, seq,
node, checkpoint, ward, time, type); ``type`` selects the body. Unknown keys are refused
(``extra="forbid"``) so that a misspelt field is a visible rejection at the hub, not a
silently missing value. See docs/contract.md for the reference for people who write
their own clients.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from checkpoint.contract.topics import ID_PATTERN

SCHEMA_VERSION: Literal[1] = 1


def _check_uuid(value: str) -> str:
    uuid.UUID(value)  # raises ValueError, which pydantic reports with the field path
    return value


Id = Annotated[str, Field(pattern=ID_PATTERN, examples=["phucla-cp07"])]
EventId = Annotated[str, AfterValidator(_check_uuid), Field(examples=["0190c0de-..."])]
Celsius = Annotated[float, Field(ge=-70.0, le=380.0)]  # the MLX90614's object range


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- events (node -> hub)


class EventType(StrEnum):
    READING = "reading"
    PASSAGE = "passage"
    BARRIER = "barrier"
    HEALTH = "health"
    CONFIG_ACK = "config_ack"
    COMMAND_RESULT = "command_result"


def _not_a_bool(value: Any) -> Any:
    # JSON true equals 1 in Python, and a Literal[1] takes it: "v": true is no version.
    if isinstance(value, bool):
        raise ValueError("the schema version is an integer, not a boolean")
    return value


SchemaVersion = Annotated[Literal[1], BeforeValidator(_not_a_bool)]


class EventBase(WireModel):
    v: SchemaVersion = SCHEMA_VERSION
    id: EventId = Field(description="Globally unique event id (UUIDv7); the hub stores it once")
    seq: int = Field(ge=0, description="Per-node sequence number from the node's outbox")
    node_id: Id
    checkpoint_id: Id
    ward_id: Id
    ts: AwareDatetime = Field(description="When it happened, by the node's clock")


class Reading(EventBase):
    """One body-temperature measurement (the mean of several thermometer samples)."""

    type: Literal[EventType.READING] = EventType.READING
    object_c: Celsius
    ambient_c: Celsius
    samples: int = Field(ge=1)
    spread_c: float = Field(ge=0, description="Max minus min over the samples")
    emissivity: float = Field(gt=0, le=1)


class Decision(StrEnum):
    ADMIT = "admit"
    REFUSE = "refuse"
    OVERRIDE = "override"  # the on-duty operator opened the barrier (see Passage.override)


class Reason(StrEnum):
    """Why a passage was admitted or refused; the volunteer sees a pattern per reason."""

    OK = "ok"
    FEVER = "fever"
    THERMOMETER_FAULT = "thermometer_fault"
    NO_PASS = "no_pass"
    PASS_UNREADABLE = "pass_unreadable"
    PASS_NOT_A_PASS = "pass_not_a_pass"
    PASS_BAD_SIGNATURE = "pass_bad_signature"
    PASS_UNKNOWN_KEY = "pass_unknown_key"
    PASS_EXPIRED = "pass_expired"
    PASS_NOT_YET_VALID = "pass_not_yet_valid"
    PASS_WRONG_WARD = "pass_wrong_ward"
    PASS_REVOKED = "pass_revoked"
    PASS_NOT_HERE = "pass_not_here"
    OUTSIDE_HOURS = "outside_hours"
    LEVEL_NOT_ALLOWED = "level_not_allowed"
    STALE_TRUST = "stale_trust"
    OVERRIDE = "override"  # opened by the operator: Passage.override says who and why
    NOT_AN_OPERATOR = "not_an_operator"  # an override or shift sign-in without a badge
    PASSBACK = "passback"  # in again without an out since: the pass is used twice


class TemperatureCheck(WireModel):
    first_c: Celsius | None = Field(description="Screening measurement; None if it failed")
    second_c: Celsius | None = Field(default=None, description="Re-measurement after a high first")
    ambient_c: Celsius | None = None
    threshold_c: float
    fever: bool = Field(description="True only when the re-measurement confirmed it")


class PassCheck(WireModel):
    pass_id: str | None = Field(
        default=None, max_length=64, description="Never a name or ID number"
    )
    category: str | None = Field(default=None, max_length=32)
    valid: bool
    reason: Reason
    key_id: str | None = Field(default=None, max_length=32)
    trust_version: int | None = None
    revocation_version: int | None = None
    trust_age_s: float | None = None


class BarrierMotion(WireModel):
    opened: bool
    open_s: float | None = Field(default=None, description="Command to open-limit switch")
    closed: bool
    fault: str | None = None


# A pass id (checkpoint.passes.model.PassId): the contract names operators by badge only.
BadgeId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{4,32}$", examples=["op-Kq3v9XbT"])]


class OverrideReason(StrEnum):
    EMERGENCY = "emergency"
    MEDICAL = "medical"
    ELDERLY_WITHOUT_PASS = "elderly_without_pass"
    OTHER = "other"


class Override(WireModel):
    """Why and by whom a barrier was opened by hand (decision ``override``)."""

    operator: BadgeId = Field(description="The operator badge's pass id")
    reason: OverrideReason


class Passage(EventBase):
    """One person at the checkpoint: temperature, pass and barrier tied together."""

    type: Literal[EventType.PASSAGE] = EventType.PASSAGE
    direction: Literal["in", "out"]
    decision: Decision
    reason: Reason
    zone_level: str = Field(max_length=32)
    temperature: TemperatureCheck | None
    pass_check: PassCheck | None
    barrier: BarrierMotion | None
    duration_ms: int = Field(ge=0, description="Presence to decision")
    override: Override | None = Field(
        default=None, description="Set exactly when the decision is override"
    )
    operator: BadgeId | None = Field(
        default=None, description="The operator on duty (signed in with a badge); None: nobody"
    )
    shift: Id | None = Field(default=None, description="The planned shift it fell in")
    zone_id: Id | None = Field(
        default=None, description="The zone the checkpoint guards (for anti-passback)"
    )

    @model_validator(mode="after")
    def _override_iff_decided(self) -> Passage:
        if (self.decision == Decision.OVERRIDE) != (self.override is not None):
            raise ValueError("override is given exactly when the decision is override")
        return self


class BarrierAlarmKind(StrEnum):
    FORCED_OPEN = "forced_open"
    HELD_OPEN = "held_open"
    OPEN_FAILED = "open_failed"
    CLOSE_FAILED = "close_failed"
    CHATTER = "chatter"
    CLEARED = "cleared"


class BarrierAlarm(EventBase):
    type: Literal[EventType.BARRIER] = EventType.BARRIER
    kind: BarrierAlarmKind
    duration_s: float | None = Field(default=None, ge=0)
    detail: str = Field(default="", max_length=256)


class Health(EventBase):
    type: Literal[EventType.HEALTH] = EventType.HEALTH
    uptime_s: float = Field(ge=0)
    cpu_temp_c: float | None = None
    disk_free_bytes: int = Field(ge=0)
    outbox_depth: int = Field(ge=0)
    outbox_dropped: int = Field(ge=0, description="Events given way to make room, ever")
    camera_fps: float | None = None
    sensor_errors: dict[str, int] = Field(default_factory=dict)
    config_version: str = Field(max_length=64)
    software_version: str = Field(max_length=64)
    flags: list[str] = Field(default_factory=list, description="e.g. disk_full, auth_refused")
    levels_version: int | None = Field(
        default=None, ge=0, description="Version of the ward's levels document it applies"
    )
    policy_version: int | None = Field(
        default=None, ge=0, description="Version of the zone policy document it applies"
    )
    operator: BadgeId | None = Field(
        default=None, description="The operator signed in at the node now; None: nobody"
    )
    shift: Id | None = Field(
        default=None, description="The planned shift now (zone policy); None: outside them"
    )


class ConfigAck(EventBase):
    type: Literal[EventType.CONFIG_ACK] = EventType.CONFIG_ACK
    version: str = Field(max_length=64)
    applied: bool
    error: str | None = Field(default=None, max_length=2048)


class CommandResult(EventBase):
    type: Literal[EventType.COMMAND_RESULT] = EventType.COMMAND_RESULT
    command_id: str = Field(max_length=64)
    command: str = Field(max_length=32)
    ok: bool
    detail: str = Field(default="", max_length=2048)


Event = Annotated[
    Reading | Passage | BarrierAlarm | Health | ConfigAck | CommandResult,
    Field(discriminator="type"),
]

# ---------------------------------------------------------------- node status (retained)


class NodeStatus(WireModel):
    """Retained on ``.../status``; ``offline`` is the node's MQTT last will."""

    v: Literal[1] = SCHEMA_VERSION
    node_id: Id
    state: Literal["online", "offline"]
    ts: AwareDatetime | None = None
    software_version: str | None = None


# ---------------------------------------------------------------- hub -> node


class ConfigPush(WireModel):
    """Retained on ``.../config``; the node validates ``config`` and acks ``version``."""

    v: Literal[1] = SCHEMA_VERSION
    version: str = Field(max_length=64)
    config: dict[str, Any] = Field(
        description="A node config (NodeConfig, checkpoint/contract/node/; in the JSON Schema "
        "document: node_config) with the fields the sender set; the node fills in the rest "
        "from its defaults, validates the whole and refuses it with its version if it fails"
    )
    issued_at: AwareDatetime


class CommandName(StrEnum):
    BARRIER_TEST = "barrier_test"
    RELOAD_CONFIG = "reload_config"
    REMEASURE = "remeasure"


class Command(WireModel):
    v: Literal[1] = SCHEMA_VERSION
    id: str = Field(max_length=64)
    name: CommandName
    args: dict[str, Any] = Field(default_factory=dict)
    issued_at: AwareDatetime


# ---------------------------------------------------------------- hub -> command centre


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
