"""Publishing to nodes from the API: retained config pushes and commands, QoS 1."""

from __future__ import annotations

import threading
from typing import Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from checkpoint.errors import CheckpointError
from checkpoint.settings.mqtt import MqttSettings


class DownlinkError(CheckpointError, ConnectionError):
    pass


class Downlink(Protocol):
    def publish(self, topic: str, payload: bytes, *, retain: bool) -> None:
        """Return once the broker acknowledged (PUBACK); raise DownlinkError otherwise."""
        ...


class MqttDownlink:
    def __init__(self, settings: MqttSettings, client_id: str) -> None:
        self.settings = settings
        self._connected = threading.Event()
        self.client = settings.new_client(client_id)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(
        self, _c: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object
    ) -> None:
        if not rc.is_failure:
            self._connected.set()

    def _on_disconnect(
        self, _c: mqtt.Client, _u: object, _f: object, _rc: ReasonCode, _p: object
    ) -> None:
        self._connected.clear()

    def start(self) -> None:
        self.client.connect_async(self.settings.host, self.settings.port, self.settings.keepalive_s)
        self.client.loop_start()

    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def publish(self, topic: str, payload: bytes, *, retain: bool, timeout_s: float = 5.0) -> None:
        if not self._connected.wait(timeout_s):
            raise DownlinkError("the broker is not reachable; nothing was sent")
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout_s)
        if not info.is_published():
            raise DownlinkError(f"the broker did not acknowledge {topic} within {timeout_s}s")

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
