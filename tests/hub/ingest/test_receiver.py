"""The session process's own loop (hub/ingest/receiver.py), driven through the hub's
handle on it: packets read in bulk arrive whole and in order, and a session held back at
its receive maximum stays connected past its keepalive."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from checkpoint.settings.mqtt import MqttSettings
from hub.ingest.receiver import Message, SessionSpec
from hub.ingest.session_process import SessionProcess
from tests.helpers import wait_for


class Received:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[Message] = []
        self.ready = threading.Event()
        self.downs: list[str] = []

    def on_messages(self, batch: list[Message]) -> None:
        with self.lock:
            self.messages += batch

    def on_down(self, reason: str, _failure: bool) -> None:
        self.downs.append(reason)

    def payloads(self) -> list[bytes]:
        with self.lock:
            return [m[4] for m in self.messages]


def more_than(received: Received, count: int) -> bool:
    return len(received.payloads()) > count


@pytest.fixture
def publisher(mqtt_settings: MqttSettings, unique: str) -> Iterator[mqtt.Client]:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"{unique}-pub", protocol=MQTTProtocolVersion.MQTTv5
    )
    client.connect(mqtt_settings.host, mqtt_settings.port)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


def session(
    mqtt_settings: MqttSettings, unique: str, received: Received, receive_maximum: int
) -> SessionProcess:
    spec = SessionSpec(
        mqtt=mqtt_settings,
        client_id=f"{unique}-session",
        subscriptions=(f"{unique}/#",),
        session_expiry_s=60,
        receive_maximum=receive_maximum,
        first_generation=1,
    )
    process = SessionProcess(
        "test",
        spec,
        on_messages=received.on_messages,
        on_ready=received.ready.set,
        on_down=received.on_down,
    )
    process.start()
    assert received.ready.wait(10), "the session process subscribed"
    return process


def test_packets_larger_than_a_read_arrive_whole_and_in_order(
    mqtt_settings: MqttSettings, unique: str, publisher: mqtt.Client
) -> None:
    received = Received()
    process = session(mqtt_settings, unique, received, receive_maximum=1000)
    try:
        # 64 KiB reads: the large ones span several, the small ones share one.
        sent = [bytes([i % 251]) * (200_000 if i % 7 == 0 else 10 + i) for i in range(60)]
        for payload in sent:
            publisher.publish(f"{unique}/x", payload, qos=1)
        wait_for(lambda: len(received.payloads()) >= len(sent), timeout_s=20, what="all")
        assert received.payloads() == sent
    finally:
        process.stop()


def test_a_session_held_at_its_receive_maximum_stays_connected_past_its_keepalive(
    mqtt_settings: MqttSettings, unique: str, publisher: mqtt.Client
) -> None:
    received = Received()
    keepalive = 5  # the least MqttSettings allows
    short = mqtt_settings.model_copy(update={"keepalive_s": keepalive})
    process = session(short, unique, received, receive_maximum=5)
    try:
        sent = [f"m{i}".encode() for i in range(12)]
        for payload in sent:
            publisher.publish(f"{unique}/x", payload, qos=1)
        wait_for(lambda: len(received.payloads()) >= 5, timeout_s=10, what="a window's worth")
        threading.Event().wait(keepalive * 2.5)  # nothing acknowledged meanwhile
        assert received.downs == [], "the held-back session stayed connected"
        # One packet every half keepalive at most, to see the broker's PINGRESP.
        assert len(received.payloads()) <= 5 + 6
        # Acknowledge what came, as the hub would once it is durable; the rest follows.
        acked = 0
        while acked < len(sent):
            wait_for(partial(more_than, received, acked), timeout_s=10, what="more messages")
            with received.lock:
                batch = received.messages[acked:]
            process.ack(batch[0][0], [(m[1], m[2]) for m in batch])
            acked += len(batch)
        assert received.payloads() == sent, "each once, in order, none redelivered"
        assert received.downs == []
    finally:
        process.stop()
