"""Turning contract payloads into bytes and back, with one reason code per failure.

The reason codes are stable: the hub counts rejects by them and stores them with the
dead letter, and dashboards group by them.
"""

from __future__ import annotations

import json
from typing import Any, Final, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from checkpoint.contract.models import SCHEMA_VERSION, Event, NodeStatus
from checkpoint.contract.topics import UpTopic, parse_up_topic
from checkpoint.errors import ContractError

# A passage event is about 1 KiB; anything near this is not a real event.
MAX_PAYLOAD_BYTES: Final = 64 * 1024

REASONS: Final = (
    "oversized",
    "not_utf8",
    "not_json",
    "unsupported_version",
    "bad_schema",
    "unknown_topic",
    "node_mismatch",
    "type_mismatch",
)

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)
M = TypeVar("M", bound=BaseModel)


def encode(model: BaseModel) -> bytes:
    return model.model_dump_json(exclude_none=False).encode()


def _load_json(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError("oversized", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError("not_utf8", str(exc)) from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise ContractError("not_json", str(exc)[:200]) from None
    if not isinstance(data, dict):
        raise ContractError("bad_schema", f"payload is a JSON {type(data).__name__}, not an object")
    version = data.get("v")
    # JSON true equals 1 in Python, but the published schema says an integer: a payload
    # with "v": true is not version 1 and must not pass as one.
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        raise ContractError(
            "unsupported_version", f"schema version {version!r}; this hub reads {SCHEMA_VERSION}"
        )
    return data


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "payload"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _parse_event(payload: bytes) -> Event:
    """Validate straight from the bytes (pydantic-core's own JSON parser: about half the
    cost of json.loads plus validation, and the hub runs this for every message). Only
    when that fails is the payload taken apart step by step, to name the right reason."""
    if len(payload) <= MAX_PAYLOAD_BYTES:
        try:
            return _EVENT.validate_json(payload)
        except ValidationError:
            pass
    data = _load_json(payload)
    try:
        return _EVENT.validate_python(data)
    except ValidationError as exc:
        raise ContractError("bad_schema", _describe(exc)) from None


def decode_event(topic: str, payload: bytes) -> Event:
    """Parse an event published on ``topic``; raise ContractError with a reason code."""
    where: UpTopic = parse_up_topic(topic)
    if where.channel != "events":
        raise ContractError("unknown_topic", f"{topic!r} carries status, not events")
    event = _parse_event(payload)
    if event.node_id != where.node_id:
        raise ContractError(
            "node_mismatch", f"payload node_id {event.node_id!r} published under {where.node_id!r}"
        )
    if event.type != where.event_type:
        raise ContractError(
            "type_mismatch", f"payload type {event.type!r} published under {where.event_type!r}"
        )
    return event


def decode_status(topic: str, payload: bytes) -> NodeStatus:
    where = parse_up_topic(topic)
    if where.channel != "status":
        raise ContractError("unknown_topic", f"{topic!r} is not a status topic")
    data = _load_json(payload)
    try:
        status = NodeStatus.model_validate(data)
    except ValidationError as exc:
        raise ContractError("bad_schema", _describe(exc)) from None
    if status.node_id != where.node_id:
        raise ContractError(
            "node_mismatch", f"payload node_id {status.node_id!r} published under {where.node_id!r}"
        )
    return status


def decode_model(model: type[M], payload: bytes) -> M:
    """Parse a hub -> node or hub -> ward payload (config, command, alert, trust)."""
    data = _load_json(payload)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ContractError("bad_schema", _describe(exc)) from None
