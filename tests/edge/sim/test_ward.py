"""The simulator against the session's real Mosquitto: traffic becomes delivered events."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from checkpoint.contract import decode_event, topics
from checkpoint.contract.models import BarrierAlarm, BarrierAlarmKind, EventBase, Passage
from checkpoint.settings.mqtt import MqttSettings
from edge.sim.ward import SimWard, run_for
from tests.helpers import wait_for


class Listener:
    """A plain MQTT subscriber: what really crossed the broker."""

    def __init__(self, settings: MqttSettings, ward_id: str) -> None:
        self.ward_id = ward_id
        self.received: list[EventBase] = []
        self._lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self.client.on_connect = lambda c, *_: c.subscribe(topics.ALL_EVENTS, qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(settings.host, settings.port)
        self.client.loop_start()
        assert self.subscribed.wait(10)

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        event = decode_event(msg.topic, msg.payload)
        if event.ward_id == self.ward_id:
            with self._lock:
                self.received.append(event)

    def ids(self) -> set[str]:
        with self._lock:
            return {e.id for e in self.received}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def listener(mqtt_settings: MqttSettings, unique: str) -> Iterator[Listener]:
    made = Listener(mqtt_settings, unique)
    yield made
    made.close()


def test_simulated_traffic_arrives_at_the_broker(
    mqtt_settings: MqttSettings, unique: str, listener: Listener
) -> None:
    made: list[EventBase] = []
    ward = SimWard(unique, 2, mqtt_settings, seed=5, on_event=made.append, health_interval_s=0.5)
    ward.connect()
    try:
        run_for(ward, 1.5, 8.0)
        for node in ward.nodes:
            node.node.idle()  # a barrier opened for a passage is not forced
        ward.forced_barrier(ward.nodes[0])
        wait_for(lambda: any(isinstance(e, BarrierAlarm) for e in made), timeout_s=5, what="alarm")
    finally:
        ward.close()
    summary = ward.summary()
    passages = [e for e in made if isinstance(e, Passage)]
    assert passages, summary
    assert summary["events waiting in outboxes"] == 0
    assert summary["events delivered"] == len(made)
    assert any(isinstance(e, BarrierAlarm) and e.kind == BarrierAlarmKind.FORCED_OPEN for e in made)
    assert false_alarms(made) == []
    assert summary["health"] >= 2  # each node reports its health while it runs
    # Every event the nodes made crossed the broker, passages and readings alike.
    wait_for(lambda: listener.ids() >= {e.id for e in made}, timeout_s=10, what="all events")


def test_a_node_that_loses_its_uplink_delivers_its_backlog(
    mqtt_settings: MqttSettings, unique: str, listener: Listener
) -> None:
    made: list[EventBase] = []
    ward = SimWard(unique, 2, mqtt_settings, seed=7, on_event=made.append, health_interval_s=None)
    ward.connect()
    try:
        cut = ward.nodes[0]
        ward.lose_uplink(cut, 60.0)
        for _ in range(4):
            cut.person_arrives(36.4, cut.resident_pass())  # decided locally, uplink down
        during = [e.id for e in made if e.node_id == cut.config.node_id]
        assert len(during) >= 8  # a reading and a passage per person
        assert ward.outboxes[0].depth == len(during)
        assert not listener.ids() & set(during)  # nothing left the node meanwhile
        ward.restore_uplink(0)
        assert ward.drained(10)
    finally:
        ward.close()
    wait_for(lambda: listener.ids() >= {e.id for e in made}, timeout_s=10, what="the backlog")
    assert ward.happenings["uplink_lost"] == 1


def false_alarms(events: list[EventBase]) -> list[str]:
    """Alarms normal traffic must never raise: the barrier worked and nobody bounced it."""
    suspicious = {BarrierAlarmKind.CHATTER, BarrierAlarmKind.OPEN_FAILED}
    suspicious |= {BarrierAlarmKind.CLOSE_FAILED}
    return [e.kind for e in events if isinstance(e, BarrierAlarm) and e.kind in suspicious]


@pytest.mark.slow
def test_a_long_busy_ward(mqtt_settings: MqttSettings, unique: str) -> None:
    made: list[EventBase] = []
    ward = SimWard(unique, 5, mqtt_settings, seed=11, on_event=made.append)
    ward.connect()
    try:
        run_for(ward, 60.0, 10.0)
        for node in ward.nodes:
            node.node.idle()
    finally:
        ward.close()
    summary = ward.summary()
    passages = [e for e in made if isinstance(e, Passage)]
    assert summary["events waiting in outboxes"] == 0
    assert false_alarms(made) == []
    # Residents are refused only for a fever (~2 %) or a cracked screen (~1 %).
    assert summary.get("passage admit ok", 0) >= 0.9 * ward.happenings["resident"], summary
    people = sum(n for what, n in ward.happenings.items() if what != "forced_barrier")
    assert len(passages) == people


def test_sim_command(mqtt_settings: MqttSettings, unique: str, listener: Listener) -> None:
    checkpoint = str(Path(sys.executable).with_name("checkpoint"))
    url = f"mqtt://{mqtt_settings.host}:{mqtt_settings.port}"
    result = subprocess.run(
        [
            checkpoint,
            "sim",
            "--nodes",
            "2",
            "--duration",
            "1.5",
            "--rate",
            "6",
            "--ward",
            unique,
            "--mqtt-url",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "events delivered" in result.stdout
    assert "     0  events waiting in outboxes" in result.stdout
    wait_for(lambda: listener.received, timeout_s=5, what="events from the sim command")
    assert {e.node_id for e in listener.received} <= {f"{unique}-cp01-n1", f"{unique}-cp02-n1"}
