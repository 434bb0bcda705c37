"""A node may publish retained messages on its event topics (Mosquitto's ACL cannot forbid
the retain flag). The broker would hand them to the hub again at every subscription, so
the hub refuses them (``retained``), keeps each as one dead letter and clears it at the
broker: three hub restarts later it is still one dead letter."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from checkpoint.contract import encode, topics
from checkpoint.localstack import Mosquitto
from checkpoint.settings.mqtt import MqttSettings
from hub.config import HubConfig
from hub.influx.v1 import InfluxV1
from hub.ingest.deadletters import DeadLetterStore
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher, fast_config, reading


def _retained_on(mqtt_settings: MqttSettings, topic_filter: str) -> dict[str, bytes]:
    """What a new subscriber gets as retained within a second."""
    got: dict[str, bytes] = {}
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.on_connect = lambda c, *_a: c.subscribe(topic_filter, qos=1)
    client.on_subscribe = lambda *_a: subscribed.set()
    client.on_message = lambda _c, _u, m: got.update({m.topic: m.payload}) if m.retain else None
    client.connect(mqtt_settings.host, mqtt_settings.port)
    client.loop_start()
    try:
        assert subscribed.wait(10)
        time.sleep(1.0)  # retained messages follow the SUBACK at once
    finally:
        client.disconnect()
        client.loop_stop()
    return got


def _run_hub(config: HubConfig, node: RawPublisher, run: int) -> DeadLetterStore:
    """Start the hub, let it take up its subscriptions, stop it."""
    hub = HubService(config)
    hub.start()
    try:
        # A good event after the subscription: once it is stored, whatever came before it
        # on the subscription was dealt with too.
        good = reading(f"{config.client_id}-cp01-n1", run + 1)
        node.publish([(topics.event_topic(good.node_id, "reading"), encode(good))])
        assert hub.ingest is not None
        ingest = hub.ingest
        wait_for(lambda: ingest.stats["stored"] == 1, what=f"run {run}: the good event")
        store = hub.dead_letters
        assert store is not None
        # Run 0 must see the three; a later run that saw them again would count six.
        wait_for(lambda: sum(store.count_by_reason().values()) >= 3, what=f"run {run}: letters")
    finally:
        hub.stop()
    return store


def test_retained_junk_is_dead_lettered_once_across_three_hub_restarts(
    own_broker: Mosquitto, influx: InfluxV1, unique: str, tmp_path: Path
) -> None:
    settings = MqttSettings(host=own_broker.host, port=own_broker.port)
    junk = {
        # 1 MB of junk on a reading topic (the bulk lane), junk on a passage topic (both
        # lanes see it), and a valid event that was published retained.
        topics.event_topic(f"{unique}-cp09-n1", "reading"): b"\x00junk" * 200_000,
        topics.event_topic(f"{unique}-cp09-n1", "passage"): b'{"v": 1, "junk": true}',
        topics.event_topic(f"{unique}-cp08-n1", "reading"): encode(reading(f"{unique}-cp08-n1", 1)),
    }
    node = RawPublisher(settings, f"node-{unique}")
    try:
        for topic, payload in junk.items():
            node.client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)
        config = fast_config(settings, influx.url, influx.database, f"hub-{unique}", tmp_path)
        for run in range(3):
            store = _run_hub(config, node, run)
            assert store.count_by_reason() == {"retained": 3}, f"run {run}"
        letters = store.recent(10)
        assert sorted(d.topic for d in letters) == sorted(junk)
        assert {d.topic: d.payload_bytes for d in letters} == {t: len(p) for t, p in junk.items()}
    finally:
        node.close()
    assert _retained_on(settings, topics.ALL_EVENTS) == {}
    stored = influx.query('SELECT "event_id" FROM "reading"')
    assert len(stored) == 3  # the good events; the retained valid one is a dead letter
