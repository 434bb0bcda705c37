"""Delivery to a real Mosquitto, a real HTTP webhook server and a real InfluxDB."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from sqlalchemy import Engine

from checkpoint.contract import topics
from checkpoint.contract.alerts import AlertChange, AlertMessage
from checkpoint.localstack.process import free_port
from checkpoint.settings.mqtt import MqttSettings
from hub.alerts.config import AlertsConfig, WebhookSettings
from hub.alerts.delivery import AlertDelivery
from hub.alerts.signals import Raise, Subject
from hub.alerts.store import AlertStore
from hub.influx.v1 import InfluxV1
from hub.publisher import HubPublisher
from hub.state import open_store
from tests.helpers import wait_for
from tests.hub.alerts.scene import Hook

T0 = datetime(2021, 8, 23, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(seconds=30)  # when raise_and_update made its last change


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook(fail=2)
    yield server
    server.close()


def raise_and_update(store: AlertStore, ward: str) -> None:
    subject = Subject(ward, f"{ward}-cp07", f"{ward}-cp07-a")
    sig = Raise("barrier_held_open", "warning", subject, "barrier held open 95s")
    with store.engine.begin() as conn:
        store.apply(conn, sig, T0)
        store.apply(conn, sig, T0 + timedelta(seconds=30))


def test_webhook_retries_with_backoff_and_keeps_order(engine: Engine, hook: Hook) -> None:
    config = AlertsConfig(
        mqtt=False,
        influx=False,
        webhooks=[WebhookSettings(url=hook.url)],
        retry_initial_s=2,
        retry_max_s=60,
    )
    store = AlertStore(engine, config)
    raise_and_update(store, "phucla")
    delivery = AlertDelivery(engine, config)
    assert delivery.deliver_due(T1) == 0  # 503: kept, retried in 2 s
    assert delivery.deliver_due(T1 + timedelta(seconds=1)) == 0  # not due yet: no attempt
    assert hook.attempts == 1
    assert delivery.deliver_due(T1 + timedelta(seconds=2)) == 0  # 503 again: now 4 s
    assert delivery.deliver_due(T1 + timedelta(seconds=5)) == 0
    assert hook.attempts == 2
    # A new delivery object (a restarted hub) finds the queue in the state store.
    delivery = AlertDelivery(engine, config)
    assert delivery.deliver_due(T1 + timedelta(seconds=6)) == 2
    assert [m.change for m in hook.received] == [AlertChange.NEW, AlertChange.UPDATED]
    assert hook.received[1].count == 2
    assert delivery.pending() == 0


def test_a_dead_webhook_does_not_hold_back_other_targets(tmp_path: Path, influx: InfluxV1) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
    dead = f"http://127.0.0.1:{free_port()}/alerts"  # nothing listens: connection refused
    config = AlertsConfig(mqtt=False, webhooks=[WebhookSettings(url=dead, timeout_s=1)])
    store = AlertStore(engine, config)
    raise_and_update(store, "phucla")
    delivery = AlertDelivery(engine, config, influx=influx)
    assert delivery.deliver_due(T1) == 2  # both changes into InfluxDB
    assert delivery.pending() == 2  # both webhook rows kept for later
    rows = influx.query('SELECT "count", alert_id, summary FROM alert GROUP BY *')
    assert sorted(r["change"] for r in rows) == ["new", "updated"]
    assert {r["kind"] for r in rows} == {"barrier_held_open"}
    assert {r["node"] for r in rows} == {"phucla-cp07-a"}
    engine.dispose()


@pytest.fixture
def ward_topic(mqtt_settings: MqttSettings, unique: str) -> Iterator[list[AlertMessage]]:
    """What arrives on the ward's alert topic (ward ``unique``), as the command centre sees it."""
    got: list[AlertMessage] = []
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    subscribed = threading.Event()
    sub.on_message = lambda _c, _u, msg: got.append(AlertMessage.model_validate_json(msg.payload))
    sub.on_subscribe = lambda *_a: subscribed.set()
    sub.connect(mqtt_settings.host, mqtt_settings.port)
    sub.loop_start()
    sub.subscribe(topics.alert_topic(unique), qos=1)
    assert subscribed.wait(5)
    yield got
    sub.loop_stop()
    sub.disconnect()


def test_mqtt_ward_topic_gets_every_change(
    tmp_path: Path, mqtt_settings: MqttSettings, unique: str, ward_topic: list[AlertMessage]
) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
    config = AlertsConfig(influx=False)
    store = AlertStore(engine, config)
    got = ward_topic
    publisher = HubPublisher(mqtt_settings, f"hub-alerts-{unique}")
    publisher.start(wait_s=5.0)
    delivery = AlertDelivery(engine, config, publisher=publisher)
    try:
        raise_and_update(store, unique)
        [alert] = store.find(active=True)
        store.acknowledge(alert.id, "chihuy-an", "on my way", now=T0 + timedelta(seconds=40))
        store.resolve(alert.id, "chihuy-an", "closed by hand", now=T0 + timedelta(seconds=90))
        assert delivery.deliver_due(T0 + timedelta(seconds=90)) == 4
        wait_for(lambda: len(got) == 4, what="four alert messages on the ward topic")
    finally:
        publisher.stop()
        engine.dispose()
    assert [m.change for m in got] == ["new", "updated", "acknowledged", "resolved"]
    assert {m.alert_id for m in got} == {alert.id}
    assert got[2].details["acknowledged_by"] == "chihuy-an"
    assert got[3].state == "resolved"
    assert got[0].ward_id == unique


def test_a_storm_of_alerts_goes_out_in_one_round_in_order(
    tmp_path: Path, mqtt_settings: MqttSettings, unique: str, ward_topic: list[AlertMessage]
) -> None:
    """A ward's thermometers all failing at once must not queue a fever behind them for
    seconds: the round publishes them all in flight and forgets them in one commit."""
    engine = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
    config = AlertsConfig(influx=False)
    store = AlertStore(engine, config)
    got = ward_topic
    publisher = HubPublisher(mqtt_settings, f"hub-alerts-{unique}")
    publisher.start(wait_s=5.0)
    delivery = AlertDelivery(engine, config, publisher=publisher)
    try:
        with engine.begin() as conn:
            for i in range(150):
                subject = Subject(unique, f"{unique}-cp{i:03d}", f"{unique}-cp{i:03d}-a")
                store.apply(conn, Raise("thermometer_stuck", "warning", subject, "stuck"), T0)
            fever = Subject(unique, f"{unique}-cp999")
            store.apply(conn, Raise("fever", "critical", fever, "fever 38.6 °C"), T0)
        assert delivery.deliver_due(T0) == 151
        assert delivery.pending() == 0
        wait_for(lambda: len(got) == 151, what="every alert on the ward topic")
    finally:
        publisher.stop()
        engine.dispose()
    assert [m.checkpoint_id for m in got[:150]] == [f"{unique}-cp{i:03d}" for i in range(150)]
    assert got[150].kind == "fever"


def test_a_round_that_cannot_publish_keeps_every_row(
    tmp_path: Path, mqtt_settings: MqttSettings, unique: str
) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
    config = AlertsConfig(influx=False)
    store = AlertStore(engine, config)
    publisher = HubPublisher(mqtt_settings, f"hub-alerts-{unique}")  # never started
    delivery = AlertDelivery(engine, config, publisher=publisher)
    try:
        raise_and_update(store, unique)
        assert delivery.deliver_due(T1) == 0
        assert delivery.pending() == 2  # kept, to be retried with backoff
        assert delivery.stats["failed_attempts"] == 1
    finally:
        engine.dispose()
