"""Turning contract payloads into bytes and back, with one reason code per failure.

The reason codes are stable: the hub counts rejects by them and stores them with the
dead letter, and dashboards group by them.
"""

from __future__ import annotations

import json
from datetime import datetime
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
    "duplicate_key",
    "unknown_topic",
    "node_mismatch",
    "type_mismatch",
)

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)
M = TypeVar("M", bound=BaseModel)


def encode(model: BaseModel) -> bytes:
    return model.model_dump_json(exclude_none=False).encode()


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ContractError("duplicate_key", f"key {key!r} appears twice in one object")
            seen.add(key)
    return data


def _load_json(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError("oversized", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError("not_utf8", str(exc)) from None
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except ContractError:
        raise
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise ContractError("not_json", str(exc)[:200]) from None
    if not isinstance(data, dict):
        raise ContractError("bad_schema", f"payload is a JSON {type(data).__name__}, not an object")
    version = data.get("v")
    # JSON true and 1.0 equal 1 in Python, but the published schema says the integer 1.
    if type(version) is not int or version != SCHEMA_VERSION:
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


# How many JSON strings a value of each type was (a key's value: 1 if a string, else 0),
# filled in as enum types are met: this runs for every message, so no isinstance chains
# for the common types.
_STRINGS: dict[type, int] = {str: 1, datetime: 1, int: 0, float: 0, bool: 0, type(None): 0}


def _quoted(model: BaseModel) -> int:
    """How many JSON strings (keys and string values) the payload of ``model`` had, if
    no key appeared twice in an object."""
    values = model.__dict__
    fields = model.__pydantic_fields_set__
    # Our encoder writes every field: then the values need no lookup by name.
    present = values.values() if len(fields) == len(values) else [values[f] for f in fields]
    n = 0
    strings = _STRINGS
    for value in present:
        kind = strings.get(type(value))
        if kind is None:
            if isinstance(value, BaseModel):
                n += 1 + _quoted(value)
                continue
            if isinstance(value, dict):  # our dicts map text to numbers
                n += 1 + len(value)
                continue
            if isinstance(value, list):
                n += 1 + sum(type(item) is str for item in value)
                continue
            kind = strings[type(value)] = int(isinstance(value, str | datetime))  # an enum
        n += 1 + kind
    return n


def _validate(model: TypeAdapter[Any] | type[BaseModel], payload: bytes) -> Any:
    """Validate from the bytes; ContractError with ``bad_schema`` if they do not fit."""
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_json(payload)
        return model.model_validate_json(payload)
    except ValidationError as exc:
        raise ContractError("bad_schema", _describe(exc)) from None


def _parse_event(payload: bytes) -> Event:
    """Validate straight from the bytes (pydantic-core's own JSON parser: about half the
    cost of json.loads plus validation, and the hub runs this for every message).

    pydantic-core keeps the last of two equal keys, so a duplicate would pass unseen. It
    cannot hide from a count, though: every key and every string value is one pair of
    quotes, so a payload with exactly as many quotes as the event has keys and strings
    has no key twice (an extra key adds a pair; escaped quotes only add). Only a payload
    that fails either check is taken apart step by step, to name the right reason."""
    if len(payload) <= MAX_PAYLOAD_BYTES:
        try:
            event: Event = _EVENT.validate_json(payload)
        except ValidationError:
            pass
        else:
            if payload.count(b'"') == 2 * _quoted(event):
                return event
    _load_json(payload)
    result: Event = _validate(_EVENT, payload)
    return result


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
    _load_json(payload)
    status: NodeStatus = _validate(NodeStatus, payload)
    if status.node_id != where.node_id:
        raise ContractError(
            "node_mismatch", f"payload node_id {status.node_id!r} published under {where.node_id!r}"
        )
    return status


def decode_model(model: type[M], payload: bytes) -> M:
    """Parse a hub -> node or hub -> ward payload (config, command, alert, trust)."""
    _load_json(payload)
    result: M = _validate(model, payload)
    return result
