"""Whatever the contract accepts becomes exactly one point, in its own measurement, with the
values it was sent with, in a real InfluxDB; what line protocol cannot carry (control
characters, NaN, Infinity, numbers beyond 64 bits) is refused by the contract first, so no
rule ever sees it.

Hypothesis builds payloads for every event type from a valid one, with fields replaced by
hostile text (newlines, backslashes, quotes, commas, spaces, ``=``, non-ASCII) and hostile
numbers, serialised the way a careless client would (``NaN`` and ``Infinity`` included).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkpoint.contract import Event, EventType, decode_event, encode, topics, uuid7
from checkpoint.contract.codec import REASONS
from checkpoint.contract.models import (
    BarrierAlarm,
    CommandResult,
    ConfigAck,
    Health,
    Passage,
    Reading,
    UpdateReport,
)
from checkpoint.errors import ContractError
from hub.influx.schema import event_point
from hub.influx.v1 import InfluxV1

NODE = "phucla-cp07-n1"
ENVELOPE = {"node_id": NODE, "checkpoint_id": "phucla-cp07", "ward_id": "phucla"}

VALID: dict[EventType, dict[str, Any]] = {
    EventType.READING: {
        "object_c": 36.5,
        "ambient_c": 29.0,
        "samples": 5,
        "spread_c": 0.1,
        "emissivity": 0.98,
    },
    EventType.PASSAGE: {
        "direction": "in",
        "decision": "admit",
        "reason": "ok",
        "zone_level": "green",
        "temperature": {
            "first_c": 36.4,
            "second_c": None,
            "ambient_c": 29.0,
            "threshold_c": 37.5,
            "fever": False,
        },
        "pass_check": {
            "pass_id": "p-0001",
            "category": "resident",
            "valid": True,
            "reason": "ok",
            "key_id": "k1",
            "trust_version": 3,
            "revocation_version": 4,
            "trust_age_s": 12.5,
        },
        "barrier": {"opened": True, "open_s": 0.8, "closed": True, "fault": None},
        "duration_ms": 2400,
    },
    EventType.BARRIER: {"kind": "forced_open", "duration_s": 4.0, "detail": "limit switch"},
    EventType.HEALTH: {
        "uptime_s": 3600.0,
        "cpu_temp_c": 55.0,
        "disk_free_bytes": 8_000_000_000,
        "outbox_depth": 0,
        "outbox_dropped": 0,
        "camera_fps": 10.0,
        "sensor_errors": {"mlx90614": 2},
        "config_version": "v1",
        "software_version": "0.1.0",
        "flags": ["disk_low"],
    },
    EventType.CONFIG_ACK: {"version": "v7", "applied": False, "error": "pins: bad"},
    EventType.COMMAND_RESULT: {
        "command_id": "c-1",
        "command": "barrier_test",
        "ok": True,
        "detail": "opened in 0.8 s",
    },
    EventType.UPDATE: {
        "status": "rolled_back",
        "from_version": "0.1.0",
        "to_version": "0.2.0",
        "reason": "gate_failed",
        "detail": "thermometer fault",
    },
}
MODELS = {
    EventType.READING: Reading,
    EventType.PASSAGE: Passage,
    EventType.BARRIER: BarrierAlarm,
    EventType.HEALTH: Health,
    EventType.CONFIG_ACK: ConfigAck,
    EventType.COMMAND_RESULT: CommandResult,
    EventType.UPDATE: UpdateReport,
}

# Text a line-protocol writer gets wrong, next to ordinary text.
HOSTILE_TEXT = st.text(
    alphabet=st.sampled_from(list('\n\r\t\\",= =ab:éưở漢\x00\x1b\x7f')) | st.characters(),
    max_size=24,
)
# ...and the same characters without the control ones, which free text may carry.
PRINTABLE_TEXT = st.text(alphabet=list('\\",= =ab:éưở漢'), min_size=1, max_size=16)
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
HUGE = st.integers(min_value=2**63, max_value=2**80) | st.integers(-(2**80), -(2**63) - 1)
HOSTILE_NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    NON_FINITE,
    HUGE,
    st.booleans(),
    st.sampled_from(["36.5", "1", "", None]),
)


def _paths(body: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for key, value in body.items():
        out.append((*prefix, key))
        if isinstance(value, dict) and key != "sensor_errors":
            out.extend(_paths(value, (*prefix, key)))
    return out


def _set(body: Any, path: tuple[str, ...], value: object) -> None:
    for key in path[:-1]:
        body = body.get(key) if isinstance(body, dict) else None
    if isinstance(body, dict):  # not if a field above was replaced already
        body[path[-1]] = value


def _beyond_line_protocol(value: object, integer_field: bool) -> bool:
    """NaN or an infinity anywhere; beyond 64 bits where an integer is meant (a float
    field takes a big integer as the finite float it is)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    return integer_field and type(value) is int and abs(value) >= 2**63


def _has_beyond(body: dict[str, Any], valid: object) -> bool:
    for key, value in body.items():
        was = valid.get(key) if isinstance(valid, dict) else None
        if key == "sensor_errors" and isinstance(value, dict):
            if any(_beyond_line_protocol(v, True) for v in value.values()):
                return True
        elif isinstance(value, dict):
            if _has_beyond(value, was):
                return True
        elif _beyond_line_protocol(value, type(was) is int):
            return True
    return False


@st.composite
def payloads(draw: st.DrawFn, kind: EventType) -> tuple[bytes, bool]:
    """A payload built from a valid ``kind`` event with up to three fields replaced;
    True if a number line protocol cannot carry went in."""
    body = json.loads(json.dumps(VALID[kind]))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(_paths(VALID[kind])))
        value: object
        was: Any = VALID[kind]
        for key in path:
            was = was[key]
        text = PRINTABLE_TEXT | HOSTILE_TEXT
        if path == ("sensor_errors",):
            value = draw(st.dictionaries(text, HOSTILE_NUMBER, max_size=2))
        elif path == ("flags",):
            value = draw(st.lists(text, max_size=3))
        else:
            # Mostly values of the field's own kind, so that many are valid and stored.
            value = draw(text | HOSTILE_NUMBER if isinstance(was, str) else HOSTILE_NUMBER | text)
        _set(body, path, value)
    made = datetime.now(UTC) - timedelta(minutes=draw(st.integers(1, 10_000)))
    event = {
        "v": 1,
        "id": uuid7(),
        "seq": draw(st.integers(0, 10**6)),
        **ENVELOPE,
        "ts": made.isoformat(),
        "type": kind.value,
        **body,
    }
    beyond = _has_beyond(body, VALID[kind])
    return json.dumps(event, ensure_ascii=draw(st.booleans())).encode(), beyond


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _stored(influx: InfluxV1, event: Event) -> list[dict[str, Any]]:
    return influx.query('SELECT * FROM /.*/ WHERE "event_id" = $id', {"id": event.id})


def test_every_accepted_event_is_one_faithful_point_and_the_rest_is_refused(
    influx: InfluxV1,
) -> None:
    accepted: list[Event] = []
    hostile: list[Event] = []  # accepted with a backslash, quote, comma, = or space in text
    refused: dict[str, int] = {}

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(st.sampled_from(list(EventType)).flatmap(payloads))
    def check(generated: tuple[bytes, bool]) -> None:
        payload, beyond = generated
        kind = json.loads(payload)["type"]
        try:
            event = decode_event(topics.event_topic(NODE, kind), payload)
        except ContractError as exc:
            refused[exc.reason] = refused.get(exc.reason, 0) + 1
            return
        assert not beyond, f"accepted a number line protocol cannot carry: {payload!r}"
        assert isinstance(event, MODELS[EventType(kind)])
        point = event_point(event)
        influx.write_lines([point.to_line()])
        rows = _stored(influx, event)
        assert len(rows) == 1, rows
        row = rows[0]
        assert row["_measurement"] == kind
        assert row["time"] == point.time_ns
        for tag, value in point.tags.items():
            assert row[tag] == value
        for name, value in point.fields.items():
            if isinstance(value, float):
                # InfluxDB's JSON writes 2.0e16 as 20000000000000000, which reads as an int.
                assert float(row[name]) == value, (name, row[name], value)
            else:
                assert row[name] == value, (name, row[name], value)
                assert type(row[name]) is type(value)
        accepted.append(event)
        if any(c in text for c in '\\",= ' for text in _strings(json.loads(payload))):
            hostile.append(event)

    check()
    # Nothing besides: no second point from a newline, no point in a chosen measurement.
    everything = influx.query("SELECT * FROM /.*/")
    assert len(everything) == len(accepted)
    assert {r["event_id"] for r in everything} == {e.id for e in accepted}
    assert accepted, "no generated payload was valid: the strategy tests nothing"
    assert hostile, "no text a line-protocol writer gets wrong was stored"
    assert set(refused) <= set(REASONS)
    assert refused.get("bad_schema"), "no generated payload was refused"


def test_hostile_text_in_free_text_fields_is_stored_as_sent(influx: InfluxV1) -> None:
    """The characters that broke line protocol, where the contract allows them."""
    text = 'C:\\dir\\ "quoted", a=b, ư漢 end\\'
    made = datetime.now(UTC) - timedelta(minutes=5)
    events = [
        CommandResult(
            id=uuid7(),
            seq=1,
            ts=made,
            **ENVELOPE,
            command_id=text,
            command="remeasure",
            ok=False,
            detail=text,
        ),
        BarrierAlarm(id=uuid7(), seq=2, ts=made, **ENVELOPE, kind="held_open", detail=text),
        ConfigAck(id=uuid7(), seq=3, ts=made, **ENVELOPE, version=text, applied=False, error=text),
    ]
    for event in events:
        decoded = decode_event(topics.event_topic(NODE, event.type.value), encode(event))
        influx.write_lines([event_point(decoded).to_line()])
    rows = {r["event_id"]: r for r in influx.query("SELECT * FROM /.*/")}
    assert len(rows) == 3
    assert rows[events[0].id]["detail"] == text
    assert rows[events[0].id]["command_id"] == text
    assert rows[events[1].id]["detail"] == text
    assert rows[events[2].id]["error"] == text
    assert rows[events[2].id]["version"] == text
