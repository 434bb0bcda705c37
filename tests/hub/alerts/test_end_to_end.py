"""End to end through the real broker, the real Ingest and InfluxDB: a node's fever
passage becomes a fever alert on the ward's topic, and an alert point in InfluxDB; the
node's own offline status becomes a node_offline alert, resolved when it is back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from checkpoint.contract import BarrierAlarm
from checkpoint.contract.models import (
    BarrierAlarmKind,
)
from checkpoint.settings.mqtt import MqttSettings
from edge.events import MemoryEmitter
from hub.alerts.config import AlertsConfig, WebhookSettings
from hub.alerts.runtime import Alerting
from hub.config import BatchSettings, HubConfig, InfluxSettings
from hub.influx.v1 import InfluxV1
from hub.ingest.consumer import Ingest
from hub.rules.config import RulesConfig, Thresholds
from tests.helpers import wait_for
from tests.hub.alerts.scene import Hook, WardWatcher, emit_fever
from tests.hub.traffic import health
from tests.node_publisher import Publisher


@dataclass
class Hub:
    alerting: Alerting
    ingest: Ingest
    hook: Hook


@pytest.fixture
def hub(
    mqtt_settings: MqttSettings, influx: InfluxV1, unique: str, tmp_path: Path
) -> Iterator[Hub]:
    hook = Hook(hang=True)
    config = HubConfig(
        client_id=f"hub-{unique}",
        mqtt=mqtt_settings,
        influx=InfluxSettings(url=influx.url, database=influx.database),
        batch=BatchSettings(max_interval_s=0.05),
        state_url=f"sqlite:///{tmp_path / 'hub.db'}",
        alerts=AlertsConfig(
            poll_s=0.2,
            webhooks=[WebhookSettings(url=hook.url, timeout_s=40)],
        ),
    )
    alerting = Alerting(config, influx)
    ingest = Ingest(config, influx, derivation=alerting.derivation)
    alerting.start()
    ingest.start()
    yield Hub(alerting, ingest, hook)
    hook.close()
    ingest.stop()
    alerting.stop()


def test_fever_passage_to_alert_on_the_ward_topic(
    hub: Hub, mqtt_settings: MqttSettings, influx: InfluxV1, unique: str
) -> None:
    ward = unique
    watcher = WardWatcher(mqtt_settings, ward)
    node = Publisher(f"{ward}-cp03-a", mqtt_settings)
    node.connect()
    emitter = MemoryEmitter(f"{ward}-cp03-a", f"{ward}-cp03", ward, sink=node.publish)
    try:
        # A first alert: its webhook call hangs (the bridge is stuck) ...
        emitter.emit(BarrierAlarm, kind=BarrierAlarmKind.FORCED_OPEN, detail="no command")
        wait_for(lambda: watcher.got, what="the barrier alert on the ward topic")
        wait_for(lambda: hub.hook.waiting, what="hook hangs")
        # ... and the fever that follows must not wait behind it.
        emit_fever(emitter)
        wait_for(lambda: [m for m in watcher.got if m.kind == "fever"], what="the fever alert")
    finally:
        node.close()
        watcher.close()
    # The node's clean close says "offline" too; this test is about the fever.
    [alert] = [m for m in watcher.got if m.kind == "fever"]
    assert alert.kind == "fever"
    assert alert.change == "new"
    assert alert.checkpoint_id == f"{ward}-cp03"
    assert alert.details["second_c"] == 38.5
    assert alert.details["event_id"] == emitter.events[1].id
    points = wait_for(
        lambda: influx.query("SELECT alert_id FROM alert WHERE kind = 'fever'"),
        what="the alert point in InfluxDB",
    )
    assert [p["alert_id"] for p in points] == [alert.alert_id]
    # The webhook hung all along (that did not delay MQTT or InfluxDB); now it answers.
    assert hub.hook.received == []
    hub.hook.release.set()
    wait_for(
        lambda: [m for m in hub.hook.received if m.kind == "barrier_forced_open"],
        what="the first alert's webhook copy",
    )
    wait_for(lambda: [m for m in hub.hook.received if m.kind == "fever"], what="the webhook's copy")
    assert hub.alerting.open_alerts() >= 1


def test_node_offline_and_back_online(hub: Hub, mqtt_settings: MqttSettings, unique: str) -> None:
    ward = unique
    watcher = WardWatcher(mqtt_settings, ward)
    node_id = f"{ward}-cp05-a"
    node = Publisher(node_id, mqtt_settings)
    node.connect()
    emitter = MemoryEmitter(node_id, f"{ward}-cp05", ward, sink=node.publish)
    try:
        health(emitter)
        # Stored and derived from (the hub then knows the node's ward and checkpoint).
        wait_for(lambda: hub.ingest.stats["stored"] == 1, what="the health event derived")
        # MQTT 5 "disconnect with will message": the broker publishes the node's last
        # will, exactly as when a power cut drops the connection.
        will = ReasonCode(PacketTypes.DISCONNECT, identifier=0x04)
        node.client.disconnect(reasoncode=will)
        node.client.loop_stop()
        wait_for(lambda: [m for m in watcher.got if m.kind == "node_offline"], what="offline")
        node = Publisher(node_id, mqtt_settings)
        node.connect()  # says online
        wait_for(lambda: [m for m in watcher.got if m.change == "resolved"], what="back online")
        changes = [(m.kind, m.change, m.details["reason"]) for m in watcher.got]
    finally:
        node.close()
        watcher.close()
    assert changes == [
        ("node_offline", "new", "last_will"),
        ("node_offline", "resolved", "last_will"),
    ]


def test_missed_heartbeats_found_by_the_ticker(
    mqtt_settings: MqttSettings, influx: InfluxV1, unique: str, tmp_path: Path
) -> None:
    """A half-open 4G link: the node's connection looks alive but nothing arrives."""
    ward = unique
    config = HubConfig(
        client_id=f"hub-{unique}",
        mqtt=mqtt_settings,
        influx=InfluxSettings(url=influx.url, database=influx.database),
        batch=BatchSettings(max_interval_s=0.05),
        rules=RulesConfig(defaults=Thresholds(heartbeat_timeout_s=1.0)),
        state_url=f"sqlite:///{tmp_path / 'hub.db'}",
        alerts=AlertsConfig(poll_s=0.2, tick_s=0.2, influx=False),
    )
    alerting = Alerting(config, influx)
    ingest = Ingest(config, influx, derivation=alerting.derivation)
    watcher = WardWatcher(mqtt_settings, ward)
    node = Publisher(f"{ward}-cp02-a", mqtt_settings)
    alerting.start(ticker=True)
    ingest.start()
    try:
        node.connect()
        emitter = MemoryEmitter(f"{ward}-cp02-a", f"{ward}-cp02", ward, sink=node.publish)
        health(emitter)
        silent = wait_for(
            lambda: [m for m in watcher.got if m.kind == "node_offline"], what="silence noticed"
        )
        health(emitter)
        wait_for(lambda: [m for m in watcher.got if m.change == "resolved"], what="heard again")
    finally:
        node.close()
        watcher.close()
        ingest.stop()
        alerting.stop()
    assert silent[0].details["reason"] == "heartbeats_missed"
    assert silent[0].node_id == f"{ward}-cp02-a"
