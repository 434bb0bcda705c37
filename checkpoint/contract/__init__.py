"""The MQTT contract: topics, payload models and their codec, imported by edge and hub."""

from checkpoint.contract import topics
from checkpoint.contract.alerts import AlertMessage
from checkpoint.contract.codec import (
    MAX_PAYLOAD_BYTES,
    decode_event,
    decode_model,
    decode_status,
    encode,
)
from checkpoint.contract.confirm import Confirmation
from checkpoint.contract.ids import uuid7
from checkpoint.contract.models import (
    SCHEMA_VERSION,
    BarrierAlarm,
    Command,
    CommandResult,
    ConfigAck,
    ConfigPush,
    Event,
    EventType,
    Health,
    NodeStatus,
    Passage,
    Reading,
    UpdateReport,
)

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "SCHEMA_VERSION",
    "AlertMessage",
    "BarrierAlarm",
    "Command",
    "CommandResult",
    "ConfigAck",
    "ConfigPush",
    "Confirmation",
    "Event",
    "EventType",
    "Health",
    "NodeStatus",
    "Passage",
    "Reading",
    "UpdateReport",
    "decode_event",
    "decode_model",
    "decode_status",
    "encode",
    "topics",
    "uuid7",
]
