"""Plain paho clients and the hub's publisher for the trust tests, against a Mosquitto the
test started itself.

Trust topics are global (``checkpoint/v1/trust/<name>``) and retained, so these tests use
their own broker rather than the session one: retained lists must not leak between tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from checkpoint.contract import topics
from checkpoint.settings.mqtt import MqttSettings
from hub.publisher import HubPublisher


@contextmanager
def client(
    port: int, name: str, on_message: Callable[[str, bytes], object] | None = None
) -> Iterator[mqtt.Client]:
    """A connected client; with ``on_message`` it is subscribed to every trust topic."""
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=name, protocol=MQTTProtocolVersion.MQTTv5
    )
    subscribed = threading.Event()
    if on_message is not None:
        c.on_message = lambda _c, _u, msg: on_message(msg.topic, msg.payload)
        c.on_connect = lambda cl, _u, _f, _rc, _p: cl.subscribe(topics.TRUST + "/#", qos=1)
        c.on_subscribe = lambda *_args: subscribed.set()
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        if on_message is not None:
            assert subscribed.wait(10), "no SUBACK"
        yield c
    finally:
        c.disconnect()
        c.loop_stop()


@contextmanager
def publisher(port: int, name: str) -> Iterator[HubPublisher]:
    """The hub's publisher, connected: what the hub publishes trust documents through."""
    pub = HubPublisher(MqttSettings(host="127.0.0.1", port=port), name, timeout_s=10.0)
    try:
        assert pub.start(wait_s=10.0), "no CONNACK"
        yield pub
    finally:
        pub.stop()
