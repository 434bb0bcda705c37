"""A node's MQTT session without the outbox, for tests that publish chosen events
directly (redeliveries, a last will): each publish returns once the broker's PUBACK came.
Nodes themselves publish through edge/uplink (outbox and link)."""

from __future__ import annotations

import logging
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from checkpoint.contract import Event, encode, topics
from checkpoint.errors import CheckpointError
from checkpoint.settings.mqtt import MqttSettings
from edge.uplink.status import status_payload

log = logging.getLogger(__name__)


class UplinkError(CheckpointError, ConnectionError):
    pass


class Publisher:
    def __init__(self, node_id: str, settings: MqttSettings) -> None:
        self.node_id = node_id
        self.settings = settings
        self._connected = threading.Event()
        self._refused: str | None = None
        self.client = settings.new_client(node_id)
        self.client.will_set(
            topics.status_topic(node_id), status_payload(node_id, "offline"), qos=1, retain=True
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(
        self, client: mqtt.Client, _ud: object, _flags: object, rc: ReasonCode, _props: object
    ) -> None:
        if rc.is_failure:
            # Do not claim to be connected after a refusal (Frigate's mistake).
            self._refused = str(rc)
            log.error("broker refused node %s: %s", self.node_id, rc)
            return
        self._refused = None
        client.publish(
            topics.status_topic(self.node_id),
            status_payload(self.node_id, "online"),
            qos=1,
            retain=True,
        )
        self._connected.set()

    def _on_disconnect(
        self, _c: mqtt.Client, _ud: object, _flags: object, rc: ReasonCode, _p: object
    ) -> None:
        self._connected.clear()
        if rc.is_failure:
            log.warning("node %s lost the broker: %s", self.node_id, rc)

    def connect(self, timeout_s: float = 10.0) -> None:
        try:
            self.client.connect(self.settings.host, self.settings.port, self.settings.keepalive_s)
        except OSError as exc:
            raise UplinkError(
                f"cannot reach broker {self.settings.host}:{self.settings.port}: {exc}"
            ) from None
        self.client.loop_start()
        if not self._connected.wait(timeout_s):
            self.close()
            raise UplinkError(f"broker did not accept node {self.node_id}: {self._refused}")

    def publish(self, event: Event, timeout_s: float = 10.0) -> None:
        info = self.client.publish(
            topics.event_topic(self.node_id, event.type.value), encode(event), qos=1
        )
        info.wait_for_publish(timeout_s)
        if not info.is_published():
            raise UplinkError(f"no PUBACK for event {event.id} within {timeout_s}s")

    def close(self) -> None:
        # A clean stop: say offline ourselves (a clean DISCONNECT suppresses the will).
        if self._connected.is_set():
            info = self.client.publish(
                topics.status_topic(self.node_id),
                status_payload(self.node_id, "offline"),
                qos=1,
                retain=True,
            )
            info.wait_for_publish(2.0)
        self.client.disconnect()
        self.client.loop_stop()
