"""Pieces shared by the uplink tests: valid event fields, a subscriber, a scripted node."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from checkpoint.contract import Passage, Reading
from checkpoint.contract.node.config import NodeConfig
from edge.events import Emitter
from edge.runtime_node import NodeLike

READING: dict[str, Any] = {
    "object_c": 36.4,
    "ambient_c": 29.0,
    "samples": 5,
    "spread_c": 0.1,
    "emissivity": 0.98,
}
PASSAGE: dict[str, Any] = {
    "direction": "in",
    "decision": "admit",
    "reason": "ok",
    "zone_level": "green",
    "temperature": None,
    "pass_check": None,
    "barrier": None,
    "duration_ms": 800,
}


def reading(emitter: Emitter) -> Reading:
    return emitter.emit(Reading, **READING)


def passage(emitter: Emitter) -> Passage:
    return emitter.emit(Passage, **PASSAGE)


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool
    at: float


@dataclass
class Subscriber:
    """A plain MQTT 5 client that records what it receives. ``persistent`` keeps its
    session (and the broker's queue for it) across a broker restart."""

    host: str
    port: int
    topic_filter: str
    persistent: bool = False
    messages: list[Received] = field(default_factory=list)
    subscribed: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        # MQTT 3.1.1 with a persistent session: Mosquitto 2.0 restores those after a
        # restart (it forgets MQTT 5 session expiry on restore).
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"sub-{id(self)}",
            protocol=MQTTProtocolVersion.MQTTv311
            if self.persistent
            else MQTTProtocolVersion.MQTTv5,
            clean_session=False if self.persistent else None,
        )
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_a: self.subscribed.set()
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, *_a: object) -> None:
        client.subscribe(self.topic_filter, qos=1)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append(
                Received(msg.topic, bytes(msg.payload), bool(msg.retain), time.monotonic())
            )

    def start(self) -> Subscriber:
        self.client.connect(self.host, self.port, 30)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise AssertionError("subscriber did not get its SUBACK")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def payloads(self, suffix: str = "") -> list[bytes]:
        with self.lock:
            return [m.payload for m in self.messages if m.topic.endswith(suffix)]


class ScriptedNode(NodeLike):
    """A stand-in for edge.node.Node that emits on demand and records its life. It is
    rebuilt on every config (NodeLike's own answer), so the tests count the nodes built, and
    has no barrier to test."""

    def __init__(self, config: NodeConfig, emitter: Emitter) -> None:
        if config.thermometer.samples == 13:  # a config this node cannot run on
            raise RuntimeError("13 samples: the thermometer would overheat")
        self.config = config
        self.emitter = emitter
        self.closed = False

    def remeasure(self) -> str:
        return reading(self.emitter).id

    def close(self) -> None:
        self.closed = True


class NodeFactory:
    """A node_factory for EdgeService that keeps every node it built."""

    def __init__(self) -> None:
        self.built: list[ScriptedNode] = []

    def __call__(self, config: NodeConfig, emitter: Emitter) -> ScriptedNode:
        node = ScriptedNode(config, emitter)
        self.built.append(node)
        return node
