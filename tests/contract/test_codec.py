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
from checkpoint.contract.models import one_line
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


def _reading_with(**changes: object) -> bytes:
    data = json.loads(encode(reading()))
    data.update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        # Numbers only where numbers are meant, and finite.
        (_reading_with(object_c=True), "bad_schema"),
        (_reading_with(object_c="36.5"), "bad_schema"),
        (_reading_with(object_c=float("nan")), "bad_schema"),  # json writes NaN
        (_reading_with(ambient_c=float("inf")), "bad_schema"),
        (_reading_with(spread_c=float("-inf")), "bad_schema"),
        (_reading_with().replace(b'"spread_c": 0.1', b'"spread_c": 1e400'), "bad_schema"),
        (_reading_with(samples=5.0), "bad_schema"),
        (_reading_with(samples="5"), "bad_schema"),
        (_reading_with(seq=2**63), "bad_schema"),
        (_reading_with(seq=True), "bad_schema"),
        (_reading_with(v=1.0), "unsupported_version"),
        (_reading_with(v=True), "unsupported_version"),
        # One time format; no epochs.
        (_reading_with(ts=1_795_000_000), "bad_schema"),
        (_reading_with(ts="1795000000"), "bad_schema"),
        (_reading_with(ts="2026-11-22 08:30:00+00:00"), "bad_schema"),
        (_reading_with(ts="2026-11-22T08:30Z"), "bad_schema"),
        # Canonical UUIDs only.
        (_reading_with(id="0190C0DE-0000-7000-8000-000000000000"), "bad_schema"),
        (_reading_with(id="{0190c0de-0000-7000-8000-000000000000}"), "bad_schema"),
        (_reading_with(id="0190c0de000070008000000000000000"), "bad_schema"),
        (_reading_with(id="urn:uuid:0190c0de-0000-7000-8000-000000000000"), "bad_schema"),
        # A key twice: the second would silently win.
        (_reading_with()[:-1] + b', "object_c": 41.0}', "duplicate_key"),
        (_reading_with()[:-1] + b', "v": 2}', "duplicate_key"),
    ],
)
def test_lax_values_are_refused(payload: bytes, reason: str) -> None:
    assert reason_of(TOPIC, payload) == reason


def test_control_characters_and_tag_breakers_are_refused() -> None:
    topic = topics.event_topic("cp01-n1", "command_result")
    base = {
        **json.loads(encode(reading())),
        "type": "command_result",
        "command_id": "c1",
        "command": "remeasure",
        "ok": True,
        "detail": "",
    }
    for name in ("object_c", "ambient_c", "samples", "spread_c", "emissivity"):
        del base[name]
    assert decode_event(topic, json.dumps(base).encode()).type == "command_result"
    for changes in (
        {"command": "remeasure\nreading,ward=x f=1"},  # a second point, in a chosen measurement
        {"command": "green\\"},  # a tag ending in a backslash
        {"command": "re measure"},
        {"detail": "line one\nline two"},
        {"command_id": "c\x00"},
        {"detail": "\x1b[31mred"},
    ):
        assert reason_of(topic, json.dumps({**base, **changes}).encode()) == "bad_schema", changes


def test_escaped_quotes_take_the_exact_path() -> None:
    # Escaped quotes add to the quote count, so the count proves nothing: such a payload is
    # checked key by key, valid or not.
    quoted = _reading_with(ward_id="phucla")
    with_dup = quoted[:-1] + b', "ward_id": "phucla"}'
    assert reason_of(TOPIC, with_dup) == "duplicate_key"
    data = json.loads(encode(reading()))
    data["extra"] = 'say "hi"'
    assert reason_of(TOPIC, json.dumps(data).encode()) == "bad_schema"
    event = reading()
    payload = encode(event).replace(b'"cp01-n1"', b'"cp01\\u002dn1"')  # an escape, same text
    assert decode_event(TOPIC, payload) == event


def test_one_line_makes_free_text_fit() -> None:
    assert one_line("pins:\n  relay: bad\tvalue\x00", 20) == "pins: relay: bad val"
