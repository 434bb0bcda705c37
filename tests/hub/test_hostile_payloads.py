"""The payloads found with mosquitto_pub against a running hub: line-protocol injection,
a tag ending in a backslash, lax numbers and times. Each is refused with its reason and
dead-lettered once, no rule hears of it, and nothing of it reaches InfluxDB; the same
characters in free text are stored as sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from time import time_ns
from typing import Any

from checkpoint.contract import encode, topics
from edge.events import MemoryEmitter
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher
from tests.hub.traffic import Clock, health, passage, reading


def _emitter(node: str, ward: str) -> MemoryEmitter:
    clock = Clock()
    clock.now = datetime.now(UTC) - timedelta(seconds=5)
    return MemoryEmitter(node, node.rsplit("-", 1)[0], ward, clock=clock)


def _changed(payload: bytes, **changes: Any) -> bytes:
    return json.dumps({**json.loads(payload), **changes}).encode()


def _message(event: Any, payload: bytes | None = None) -> tuple[str, bytes]:
    topic = topics.event_topic(event.node_id, event.type.value)
    return topic, encode(event) if payload is None else payload


def test_injected_and_lax_payloads_are_refused_and_raise_nothing(
    hub: HubService, influx: InfluxV1, raw_publisher: RawPublisher, unique: str
) -> None:
    em = _emitter(f"{unique}-cp01-n1", unique)
    hot_health = health(em, cpu_temp_c=95.0)  # what the rule would alert on
    fever = reading(em, 39.5)
    pas = passage(em)
    injection = "green\nreading,ward=x,node=y object_c=99.0 1"
    refused: list[tuple[tuple[str, bytes], str]] = [
        # A newline in a tag (a second point in a measurement of the sender's choosing).
        (_message(pas, _changed(encode(pas), zone_level=injection)), "bad_schema"),
        (_message(pas, _changed(encode(pas), zone_level="green\\")), "bad_schema"),
        # Non-numbers where the rules read numbers.
        (_message(hot_health, _changed(encode(hot_health), cpu_temp_c=float("inf"))), "bad_schema"),
        (_message(hot_health, _changed(encode(hot_health), cpu_temp_c=float("nan"))), "bad_schema"),
        (_message(hot_health, _changed(encode(hot_health), cpu_temp_c="95")), "bad_schema"),
        (_message(fever, _changed(encode(fever), object_c=True)), "bad_schema"),
        (_message(fever, _changed(encode(fever), object_c="39.5")), "bad_schema"),
        (_message(fever, _changed(encode(fever), samples=2**64)), "bad_schema"),
        (_message(fever, _changed(encode(fever), ts=int(time_ns() // 10**9))), "bad_schema"),
        (_message(fever, _changed(encode(fever), id=fever.id.upper())), "bad_schema"),
        (_message(fever, _changed(encode(fever), v=1.0)), "unsupported_version"),
        (_message(fever, encode(fever)[:-1] + b',"object_c":39.9}'), "duplicate_key"),
    ]
    # The same characters where free text may hold them: stored as sent, one point.
    text = 'C:\\p\\ "x", a=b ư'
    fine = passage(em, pass_id=text)
    raw_publisher.publish([m for m, _ in refused] + [_message(fine)])

    store = hub.dead_letters
    assert store is not None
    counts = wait_for(
        lambda: (c := store.count_by_reason()) and sum(c.values()) == len(refused) and c,
        what="every refused payload dead-lettered",
    )
    expected: dict[str, int] = {}
    for _, reason in refused:
        expected[reason] = expected.get(reason, 0) + 1
    assert counts == expected
    wait_for(lambda: influx.query('SELECT * FROM "passage"'), what="the fine passage stored")
    rows = influx.query("SELECT * FROM /.*/")
    # The passage and its pass trace (hub/influx/schema.py), and nothing a refused payload made.
    assert sorted((r["_measurement"], r["event_id"]) for r in rows) == [
        ("passage", fine.id),
        ("passage_trace", fine.id),
    ]
    by_measurement = {r["_measurement"]: r for r in rows}
    assert by_measurement["passage_trace"]["pass_id"] == text
    assert by_measurement["passage"]["level"] == "green"

    # No rule heard of the refused values; the same node's valid report does raise one.
    assert hub.alerting is not None
    alerts = hub.alerting.store
    assert alerts.find(ward_id=unique) == []
    raw_publisher.publish([_message(hot_health)])
    wait_for(
        lambda: [a.kind for a in alerts.find(ward_id=unique)] == ["cpu_temp_critical"],
        timeout_s=30,
        what="the valid report's alert",
    )


def test_a_passage_influxdb_refuses_is_dead_lettered_once(
    hub: HubService, influx: InfluxV1, raw_publisher: RawPublisher, unique: str
) -> None:
    """Passages come to both lanes (the bulk lane's subscription covers them): a point
    InfluxDB refuses is still one dead letter, counted once."""
    assert hub.config.ingest.priority_lane
    influx.write_lines([f'passage,ward=w duration_ms="slow" {time_ns()}'])  # a type conflict
    em = _emitter(f"{unique}-cp01-n1", unique)
    passages = [passage(em) for _ in range(5)]
    raw_publisher.publish([_message(p) for p in passages])
    store = hub.dead_letters
    assert store is not None
    wait_for(
        lambda: store.count_by_reason().get("influx_refused") == 5,
        what="five dead letters",
    )
    # Both lanes have finished with them: a settled count, not a moment in a race.
    assert hub.ingest is not None
    ingest = hub.ingest
    wait_for(lambda: ingest.lanes[0].unacked == 0 and ingest.lanes[1].unacked == 0, what="acked")
    assert store.count_by_reason() == {"influx_refused": 5}
    assert sorted(d.payload for d in store.recent(20)) == sorted(encode(p) for p in passages)
    assert ingest.stats["rejected"] == 5
    text = hub.metrics.render().decode()
    assert 'checkpoint_hub_messages_rejected_total{reason="influx_refused"} 5.0' in text
