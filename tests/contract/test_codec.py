"""The contract refuses what is not a valid event, each time with its own reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checkpoint.contract import (
    MAX_PAYLOAD_BYTES,
    ConfigPush,
    Reading,
    decode_event,
    decode_model,
    decode_status,
    encode,
    topics,
    uuid7,
)
from checkpoint.errors import ContractError


def reading(node_id: str = "cp01-n1", **over: object) -> Reading:
    fields: dict[str, object] = {
        "id": uuid7(),
        "seq": 7,
        "node_id": node_id,
        "checkpoint_id": "cp01",
        "ward_id": "phucla",
        "ts": datetime(2026, 11, 22, 8, 30, tzinfo=UTC),
        "object_c": 36.6,
        "ambient_c": 28.0,
        "samples": 5,
        "spread_c": 0.1,
        "emissivity": 0.98,
    }
    fields.update(over)
    return Reading.model_validate(fields)


def test_round_trip() -> None:
    event = reading()
    topic = topics.event_topic("cp01-n1", "reading")
    assert topic == "checkpoint/v1/up/cp01-n1/events/reading"
    assert decode_event(topic, encode(event)) == event


def reason_of(topic: str, payload: bytes) -> str:
    with pytest.raises(ContractError) as info:
        decode_event(topic, payload)
    return info.value.reason


TOPIC = "checkpoint/v1/up/cp01-n1/events/reading"


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (TOPIC, b"not json", "not_json"),
        (TOPIC, b"\xff\xfe{}", "not_utf8"),
        (TOPIC, b"[1, 2]", "bad_schema"),
        (TOPIC, b'{"v": 2}', "unsupported_version"),
        (TOPIC, encode(reading()).replace(b'"v":1', b'"v":true'), "unsupported_version"),
        (TOPIC, b'{"v": 1, "type": "reading"}', "bad_schema"),
        (TOPIC, b"[" * 100_000 + b"]" * 100_000, "oversized"),
        (TOPIC, b"[" * 30_000 + b"]" * 30_000, "not_json"),
        ("checkpoint/v1/up/cp01-n1/oops", b"{}", "unknown_topic"),
        ("other/topic", b"{}", "unknown_topic"),
        ("checkpoint/v1/up/CP01/events/reading", b"{}", "unknown_topic"),
    ],
)
def test_bad_input_has_a_reason(topic: str, payload: bytes, reason: str) -> None:
    assert reason_of(topic, payload) == reason


def test_node_id_must_match_topic() -> None:
    payload = encode(reading(node_id="cp02-n1"))
    assert reason_of(TOPIC, payload) == "node_mismatch"


def test_type_must_match_topic() -> None:
    payload = encode(reading())
    assert reason_of("checkpoint/v1/up/cp01-n1/events/passage", payload) == "type_mismatch"


def test_unknown_field_is_refused() -> None:
    data = json.loads(encode(reading()))
    data["surname"] = "Nguyen"  # personal data has no place in the contract
    assert reason_of(TOPIC, json.dumps(data).encode()) == "bad_schema"


def test_naive_timestamp_is_refused() -> None:
    data = json.loads(encode(reading()))
    data["ts"] = "2026-11-22T08:30:00"
    assert reason_of(TOPIC, json.dumps(data).encode()) == "bad_schema"


def test_status_and_downlink_models() -> None:
    status_topic = topics.status_topic("cp01-n1")
    status = decode_status(status_topic, b'{"v":1,"node_id":"cp01-n1","state":"offline"}')
    assert status.state == "offline"
    with pytest.raises(ContractError, match="node_mismatch"):
        decode_status(status_topic, b'{"v":1,"node_id":"cp09-n1","state":"online"}')
    push = ConfigPush(version="7", config={"node_id": "x"}, issued_at=datetime.now(UTC))
    assert decode_model(ConfigPush, encode(push)) == push


def test_ids_are_unique_uuid7() -> None:
    ids = {uuid7() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(i[14] == "7" for i in ids)
    assert uuid7(1000) < uuid7(2000)  # time-ordered


def test_topic_levels_are_checked() -> None:
    with pytest.raises(ContractError, match="bad_id"):
        topics.event_topic("cp01/#", "reading")
    assert topics.shared("hubs", topics.ALL_EVENTS) == "$share/hubs/checkpoint/v1/up/+/events/+"


def test_size_limit_is_what_it_says() -> None:
    assert reason_of(TOPIC, b" " * (MAX_PAYLOAD_BYTES + 1)) == "oversized"


@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash(payload: bytes) -> None:
    with pytest.raises(ContractError):
        decode_event(TOPIC, payload)
