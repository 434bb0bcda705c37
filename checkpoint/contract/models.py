"""Payload models of the MQTT contract, version 1.

Every payload is JSON with ``"v": 1``. Events from nodes share one envelope (id, seq,
node, checkpoint, ward, time, type); ``type`` selects the body. Unknown keys are refused
(``extra="forbid"``) so that a misspelt field is a visible rejection at the hub, not a
silently missing value. See docs/contract.md for the reference for people who write
their own clients.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from checkpoint.contract.topics import ID_PATTERN

SCHEMA_VERSION: Literal[1] = 1

# InfluxDB stores 64-bit signed integers; a count beyond that is no count a node made.
INT64_MAX = 2**63 - 1

# The contract's one time format (RFC 3339 with a zone), as pydantic writes it. pydantic
# alone would also take "2026-11-22 08:30", a date-time without seconds, or "1700000000"
# (read as Unix seconds).
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})", re.ASCII
)


def _rfc3339(value: Any) -> Any:
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("give the time as RFC 3339, e.g. 2026-11-22T08:30:12.345000Z")
    if not isinstance(value, str | datetime):
        raise ValueError("give the time as an RFC 3339 string, not a number")
    return value


# Canonical spelling only (lowercase, hyphenated): the hub stores an event id once, so two
# spellings of one UUID would be two events.
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# No control characters (newline, NUL, ESC...) in any text: the text ends up in InfluxDB,
# logs and consoles, where a newline starts a second point, line or row.
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"

Id = Annotated[str, Field(pattern=ID_PATTERN, examples=["phucla-cp07"])]
EventId = Annotated[str, Field(pattern=UUID_PATTERN, examples=["0190c0de-..."])]
Text = Annotated[str, Field(pattern=LINE_PATTERN)]
# A short name that becomes an InfluxDB tag value (zone level, command): an id's characters.
Level = Annotated[str, Field(pattern=ID_PATTERN, max_length=32, examples=["green"])]
Time = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
# Strict: JSON numbers only (no true for 1, no "36.5"); finite (WireModel: no NaN, no
# Infinity); integers within InfluxDB's range.
Number = Annotated[float, Field(strict=True)]
Count = Annotated[int, Field(strict=True, ge=0, le=INT64_MAX)]
Flag = Annotated[bool, Field(strict=True)]
Celsius = Annotated[float, Field(strict=True, ge=-70.0, le=380.0)]  # the MLX90614's range


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_text(value: str) -> bool:
    """Whether ``value`` may go into a contract text field (no control characters)."""
    return _CONTROL.search(value) is None


def one_line(text: str, max_length: int) -> str:
    """Free text (an exception's message) made fit for a contract text field: control
    characters and runs of whitespace become one space, cut to ``max_length``."""
    return " ".join(_CONTROL.sub(" ", text).split())[:max_length]


# ---------------------------------------------------------------- events (node -> hub)


class EventType(StrEnum):
    READING = "reading"
    PASSAGE = "passage"
    BARRIER = "barrier"
    HEALTH = "health"
    CONFIG_ACK = "config_ack"
    COMMAND_RESULT = "command_result"
    UPDATE = "update"


def _an_int(value: Any) -> Any:
    # JSON true and 1.0 equal 1 in Python, and a Literal[1] takes them: neither is a version.
    if type(value) is not int:
        raise ValueError("the schema version is the integer 1")
    return value


SchemaVersion = Annotated[Literal[1], BeforeValidator(_an_int)]


class EventBase(WireModel):
    v: SchemaVersion = SCHEMA_VERSION
    id: EventId = Field(description="Globally unique event id (UUIDv7); the hub stores it once")
    seq: Count = Field(description="Per-node sequence number from the node's outbox")
    node_id: Id
    checkpoint_id: Id
    ward_id: Id
    ts: Time = Field(description="When it happened, by the node's clock (RFC 3339)")


class Reading(EventBase):
    """One body-temperature measurement (the mean of several thermometer samples)."""

    type: Literal[EventType.READING] = EventType.READING
    object_c: Celsius
    ambient_c: Celsius
    samples: Count = Field(ge=1)
    spread_c: Number = Field(ge=0, description="Max minus min over the samples")
    emissivity: Number = Field(gt=0, le=1)


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
    threshold_c: Celsius
    fever: Flag = Field(description="True only when the re-measurement confirmed it")


class PassCheck(WireModel):
    pass_id: Text | None = Field(
        default=None, max_length=64, description="Never a name or ID number"
    )
    category: Text | None = Field(default=None, max_length=32)
    valid: Flag
    reason: Reason
    key_id: Text | None = Field(default=None, max_length=32)
    trust_version: Count | None = None
    revocation_version: Count | None = None
    trust_age_s: Number | None = None


class BarrierMotion(WireModel):
    opened: Flag
    open_s: Number | None = Field(default=None, description="Command to open-limit switch")
    closed: Flag
    fault: Text | None = Field(default=None, max_length=256)


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
    zone_level: Level
    temperature: TemperatureCheck | None
    pass_check: PassCheck | None
    barrier: BarrierMotion | None
    duration_ms: Count = Field(description="Presence to decision")
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
    duration_s: Number | None = Field(default=None, ge=0)
    detail: Text = Field(default="", max_length=256)


class Health(EventBase):
    type: Literal[EventType.HEALTH] = EventType.HEALTH
    uptime_s: Number = Field(ge=0)
    cpu_temp_c: Number | None = Field(default=None, ge=-70, le=200)
    disk_free_bytes: Count
    outbox_depth: Count
    outbox_dropped: Count = Field(description="Events given way to make room, ever")
    camera_fps: Number | None = Field(default=None, ge=0)
    sensor_errors: dict[Annotated[Text, Field(max_length=64)], Count] = Field(
        default_factory=dict, max_length=64
    )
    config_version: Text = Field(max_length=64)
    software_version: Text = Field(max_length=64)
    flags: list[Annotated[Text, Field(max_length=64)]] = Field(
        default_factory=list, max_length=64, description="e.g. disk_full, auth_refused"
    )
    levels_version: Count | None = Field(
        default=None, description="Version of the ward's levels document it applies"
    )
    policy_version: Count | None = Field(
        default=None, description="Version of the zone policy document it applies"
    )
    operator: BadgeId | None = Field(
        default=None, description="The operator signed in at the node now; None: nobody"
    )
    shift: Id | None = Field(
        default=None, description="The planned shift now (zone policy); None: outside them"
    )

    @model_validator(mode="after")
    def _errors_countable(self) -> Health:
        # Stored as their sum, which must stay a 64-bit integer too.
        if sum(self.sensor_errors.values()) > INT64_MAX:
            raise ValueError("sensor_errors add up to more than a 64-bit count")
        return self


class ConfigAck(EventBase):
    type: Literal[EventType.CONFIG_ACK] = EventType.CONFIG_ACK
    version: Text = Field(max_length=64)
    applied: Flag
    error: Text | None = Field(default=None, max_length=2048)


class CommandResult(EventBase):
    type: Literal[EventType.COMMAND_RESULT] = EventType.COMMAND_RESULT
    command_id: Text = Field(max_length=64)
    command: Level = Field(description="The command's name (an InfluxDB tag)")
    ok: Flag
    detail: Text = Field(default="", max_length=2048)


class UpdateStatus(StrEnum):
    INSTALLED = "installed"  # verified and installed beside the running one; restarting
    APPLIED = "applied"  # the new version passed its health gate
    REFUSED = "refused"  # not installed (bad signature or hash, no disk, cannot run it)
    ROLLED_BACK = "rolled_back"  # failed its health gate; the previous version runs again


class UpdateReport(EventBase):
    """A software update's outcome on this node (edge/update), with the reason if it failed."""

    type: Literal[EventType.UPDATE] = EventType.UPDATE
    status: UpdateStatus
    from_version: Text = Field(max_length=64)
    to_version: Text = Field(max_length=64)
    reason: Text | None = Field(default=None, max_length=32, description="e.g. bad_hash, no_space")
    detail: Text = Field(default="", max_length=2048)


Event = Annotated[
    Reading | Passage | BarrierAlarm | Health | ConfigAck | CommandResult | UpdateReport,
    Field(discriminator="type"),
]

# ---------------------------------------------------------------- node status (retained)


class NodeStatus(WireModel):
    """Retained on ``.../status``; ``offline`` is the node's MQTT last will."""

    v: Literal[1] = SCHEMA_VERSION
    node_id: Id
    state: Literal["online", "offline"]
    ts: Time | None = None
    software_version: Text | None = Field(default=None, max_length=64)


# ---------------------------------------------------------------- hub -> node


class ConfigPush(WireModel):
    """Retained on ``.../config``; the node validates ``config`` and acks ``version``."""

    v: Literal[1] = SCHEMA_VERSION
    version: Text = Field(max_length=64)
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
