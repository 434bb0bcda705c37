"""Every kind of bad input is counted by reason and dead-lettered with its raw bytes,
while good traffic from other nodes keeps being stored."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from time import time_ns

import pytest

from checkpoint.contract import MAX_PAYLOAD_BYTES, Health, encode, topics, uuid7
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher, event_message, reading


def _with(payload: bytes, **changes: object) -> bytes:
    data = json.loads(payload)
    data.update(changes)
    return json.dumps(data).encode()


def test_each_bad_input_is_counted_and_dead_lettered_while_good_traffic_flows(
    hub: HubService, influx: InfluxV1, raw_publisher: RawPublisher, unique: str
) -> None:
    bad = f"{unique}-cp09-n1"
    good_nodes = [f"{unique}-cp01-n1", f"{unique}-cp02-n1"]
    now = datetime.now(UTC)
    ok_topic, ok_payload = event_message(reading(bad, 1))
    bad_messages: dict[str, tuple[str, bytes]] = {
        "not_json": (ok_topic, b'{"v": 1, "id": '),
        "not_utf8": (ok_topic, b"\xff\xfe\x00garbage"),
        "bad_schema": (ok_topic, _with(ok_payload, object_c="hot")),
        "unsupported_version": (ok_topic, _with(ok_payload, v=2)),
        "oversized": (ok_topic, b"{" + b" " * MAX_PAYLOAD_BYTES + b"}"),
        # Ends in /status, but is no status topic: neither lane may take it for one.
        "unknown_topic": (f"{topics.UP}/{bad}/camera/status", ok_payload),
        "node_mismatch": (topics.event_topic(good_nodes[0], "reading"), ok_payload),
        "type_mismatch": (topics.event_topic(bad, "passage"), ok_payload),
        "bad_timestamp": event_message(reading(bad, 2, ts=now + timedelta(days=1))),
    }
    old = event_message(reading(bad, 3, ts=now - timedelta(days=90)))

    good = [reading(good_nodes[i % 2], i) for i in range(40)]
    messages = [event_message(e) for e in good[:20]]
    messages += [*bad_messages.values(), old]
    messages += [event_message(e) for e in good[20:]]
    raw_publisher.publish(messages)

    wait_for(lambda: hub.ingest and hub.ingest.stats["stored"] == 40, what="good events stored")
    assert hub.dead_letters is not None
    store = hub.dead_letters
    counts = wait_for(
        lambda: (c := store.count_by_reason()) and sum(c.values()) == 10 and c,
        what="ten dead letters",
    )
    expected = dict.fromkeys(bad_messages, 1)
    expected["bad_timestamp"] = 2
    assert counts == expected

    # The raw bytes are kept exactly, with the topic they came on.
    letters = {d.reason: d for d in store.recent(20)}
    for reason, (topic, payload) in bad_messages.items():
        if reason == "bad_timestamp":
            continue
        assert letters[reason].topic == topic
        assert letters[reason].payload == payload
        assert letters[reason].payload_bytes == len(payload)
        assert letters[reason].detail
    future = store.recent(5, reason="bad_timestamp")
    assert {d.payload for d in future} == {bad_messages["bad_timestamp"][1], old[1]}

    # Counted by reason in the hub's own metrics.
    text = hub.metrics.render().decode()
    for reason, n in expected.items():
        assert f'checkpoint_hub_messages_rejected_total{{reason="{reason}"}} {float(n)}' in text

    rows = influx.query('SELECT "event_id" FROM "reading"')  # this test's own database
    stored_ids = sorted(r["event_id"] for r in rows)
    assert stored_ids == sorted(e.id for e in good)


def test_a_reused_event_id_for_another_point_is_dead_lettered(
    hub: HubService, influx: InfluxV1, raw_publisher: RawPublisher, unique: str
) -> None:
    node = f"{unique}-cp01-n1"
    first = reading(node, 1)
    raw_publisher.publish([event_message(first)])
    wait_for(lambda: hub.ingest and hub.ingest.stats["stored"] == 1, what="first stored")
    clash = first.model_copy(update={"seq": 2})
    raw_publisher.publish([event_message(first), (event_message(first)[0], encode(clash))])
    store = hub.dead_letters
    assert store is not None
    wait_for(lambda: store.count_by_reason() == {"id_reused": 1}, what="id_reused")
    wait_for(lambda: hub.ingest and hub.ingest.stats["duplicates"] == 1, what="duplicate counted")
    rows = influx.query('SELECT "seq" FROM "reading" WHERE "node" = $n', {"n": node})
    assert [r["seq"] for r in rows] == [1]


def test_a_point_influxdb_refuses_is_dead_lettered_and_the_rest_stored(
    hub: HubService, influx: InfluxV1, raw_publisher: RawPublisher, unique: str
) -> None:
    # A string already stored as object_c makes InfluxDB refuse our float (a field type
    # conflict): not an outage, so retrying would stall every node behind this batch.
    # Field types are per shard (a week here): readings from 10 days ago do not conflict.
    influx.write_lines([f'reading,ward=w,node=x object_c="warm" {time_ns()}'])
    node = f"{unique}-cp01-n1"
    refused = [reading(node, i) for i in range(5)]
    old = datetime.now(UTC) - timedelta(days=10)
    fine = [reading(node, 10 + i, ts=old + timedelta(seconds=i)) for i in range(5)]
    raw_publisher.publish(
        [event_message(e) for pair in zip(refused, fine, strict=True) for e in pair]
    )
    assert hub.ingest is not None
    ingest = hub.ingest
    wait_for(lambda: ingest.stats["stored"] == 5, what="the other points stored")
    store = hub.dead_letters
    assert store is not None
    letters = store.recent(20)
    assert {d.reason for d in letters} == {"influx_refused"}
    assert sorted(d.payload for d in letters) == sorted(event_message(e)[1] for e in refused)
    assert "conflict" in letters[0].detail
    rows = influx.query('SELECT "event_id" FROM "reading" WHERE "node" = $n', {"n": node})
    assert sorted(r["event_id"] for r in rows) == sorted(e.id for e in fine)
    assert ingest.stats["rejected"] == 5


def test_a_node_flooding_garbage_is_counted_in_full_but_logged_sparingly(
    hub: HubService,
    influx: InfluxV1,
    raw_publisher: RawPublisher,
    unique: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    noisy = topics.event_topic(f"{unique}-cp09-n1", "reading")
    good = [reading(f"{unique}-cp01-n1", i) for i in range(50)]
    messages = [(noisy, b"\xffgarbage %d" % i) for i in range(500)]
    messages[::10] = [event_message(e) for e in good]  # good traffic in between
    with caplog.at_level(logging.WARNING, logger="hub.ingest.intake"):
        raw_publisher.publish(messages)
        assert hub.ingest is not None
        ingest = hub.ingest
        # Retained statuses other tests left on the shared broker arrive too: not ours.
        wait_for(
            lambda: ingest.stats["received"] - ingest.stats["statuses"] == 500,
            what="all received",
        )
        wait_for(lambda: ingest.stats["stored"] == 50, what="the good events stored")
    store = hub.dead_letters
    assert store is not None
    assert wait_for(lambda: store.count_by_reason().get("not_utf8") == 450, what="450 kept")
    rejected_lines = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert 1 <= len(rejected_lines) <= hub.config.ingest.reject_log_per_min
    rows = influx.query('SELECT "event_id" FROM "reading"')
    assert sorted(r["event_id"] for r in rows) == sorted(e.id for e in good)


def test_a_health_report_dated_far_ahead_is_dead_lettered_and_raises_clock_skew(
    hub: HubService, influx: InfluxV1, raw_publisher: RawPublisher, unique: str
) -> None:
    """Beyond ``ingest.max_future_s`` the event is not stored, but the rules still hear the
    node's report: before, a node whose clock jumped far ahead only looked silent."""
    node = f"{unique}-cp01-n1"
    health = Health(
        id=uuid7(),
        seq=1,
        node_id=node,
        checkpoint_id=f"{unique}-cp01",
        ward_id=unique,
        ts=datetime.now(UTC) + timedelta(hours=1),
        uptime_s=10,
        disk_free_bytes=10**9,
        outbox_depth=0,
        outbox_dropped=0,
        config_version="1",
        software_version="test",
    )
    raw_publisher.publish([(topics.event_topic(node, "health"), encode(health))])
    store = hub.dead_letters
    assert store is not None
    wait_for(lambda: store.count_by_reason() == {"bad_timestamp": 1}, what="the dead letter")
    assert hub.alerting is not None
    alerts = hub.alerting.store
    wait_for(
        lambda: [a for a in alerts.find(ward_id=unique) if a.kind == "clock_skew"],
        timeout_s=30,
        what="the clock_skew alert",
    )
    assert influx.query('SELECT "event_id" FROM "health"') == []


def test_an_event_sent_again_after_its_dead_letter_is_kept_once(
    hub: HubService, raw_publisher: RawPublisher, unique: str
) -> None:
    """A node whose confirmation was lost (its uplink dropped) sends the event again: the
    copy is acknowledged and counted as a duplicate, not kept as a second dead letter.
    Found by tests/reliability/test_node_clock.py[long]."""
    node = f"{unique}-cp01-n1"
    ahead = event_message(reading(node, 1, ts=datetime.now(UTC) + timedelta(hours=1)))
    raw_publisher.publish([ahead])
    store = hub.dead_letters
    assert store is not None
    wait_for(lambda: store.count_by_reason() == {"bad_timestamp": 1}, what="the dead letter")
    raw_publisher.publish([ahead, event_message(reading(node, 2))])
    wait_for(lambda: hub.ingest and hub.ingest.stats["stored"] == 1, what="the next one stored")
    wait_for(lambda: hub.ingest and hub.ingest.stats["duplicates"] == 1, what="the copy counted")
    assert store.count_by_reason() == {"bad_timestamp": 1}
    assert hub.ingest is not None
    assert hub.ingest.stats["rejected"] == 1
