"""The hub's confirmations to the nodes (checkpoint/v1/down/<node>/confirm): sent only once
an event is durable (its point or its dead letter written), naming each of the node's
events, and never for what the hub could not tie to a node's event."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from checkpoint.contract import Confirmation, decode_model, topics
from checkpoint.localstack.process import free_port
from checkpoint.settings.mqtt import MqttSettings
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.edge.uplink.support import Subscriber
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher, event_message, fast_config, reading


def confirmed(sub: Subscriber) -> list[int]:
    seqs = []
    for payload in sub.payloads():
        confirmation = decode_model(Confirmation, payload)
        seqs += [s for first, last in confirmation.seqs for s in range(first, last + 1)]
    return sorted(seqs)


def test_the_hub_confirms_each_event_once_it_is_stored(
    hub: HubService, influx: InfluxV1, raw_publisher: RawPublisher, unique: str
) -> None:
    node = f"{unique}-cp01-n1"
    sub = Subscriber(hub.config.mqtt.host, hub.config.mqtt.port, topics.confirm_topic(node))
    sub.start()
    try:
        events = [reading(node, seq) for seq in (*range(0, 40), *range(50, 60))]
        late = reading(node, 60, ts=datetime.now(UTC) + timedelta(hours=2))  # a dead letter
        raw_publisher.publish([event_message(e) for e in [*events, late]])
        # Not UTF-8 on the node's own topic: nothing to confirm (no sequence number).
        raw_publisher.publish([(topics.event_topic(node, "reading"), b"\xff junk")])
        wanted = [*range(0, 40), *range(50, 61)]
        deadline = time.monotonic() + 30
        while (seen := confirmed(sub)) != wanted:
            # Whatever is confirmed is in InfluxDB already (the dead letter aside).
            rows = influx.query('SELECT "seq" FROM "reading" WHERE "node" = $n', {"n": node})
            assert set(seen) - {60} <= {r["seq"] for r in rows}, "confirmed before stored"
            assert time.monotonic() < deadline, f"confirmed {seen}"
            time.sleep(0.02)
    finally:
        sub.stop()
    # Batched: ranges, one message per node and round (the stream may span a few rounds).
    assert len(sub.payloads()) <= 10
    assert {json.loads(p)["node_id"] for p in sub.payloads()} == {node}
    store = hub.dead_letters
    assert store is not None
    assert store.count_by_reason() == {"bad_timestamp": 1, "not_utf8": 1}


def test_nothing_is_confirmed_while_the_points_cannot_be_written(
    mqtt_settings: MqttSettings, raw_publisher: RawPublisher, unique: str, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # no InfluxDB listens here
    hub = HubService(fast_config(mqtt_settings, nowhere, "db", f"hub-{unique}", tmp_path))
    node = f"{unique}-cp01-n1"
    sub = Subscriber(mqtt_settings.host, mqtt_settings.port, topics.confirm_topic(node))
    sub.start()
    hub.start()
    try:
        raw_publisher.publish([event_message(reading(node, seq)) for seq in range(5)])
        assert hub.ingest is not None
        ingest = hub.ingest
        wait_for(lambda: ingest.stats["write_errors"] >= 3, what="failed writes")
        time.sleep(1.0)  # several confirmation rounds
        assert sub.payloads() == []
    finally:
        hub.stop()
        sub.stop()
