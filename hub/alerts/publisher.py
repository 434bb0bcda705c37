"""The hub's MQTT connection for alert topics (its own client id, separate from ingest,
so that publishing never waits behind a batch of acknowledgements)."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from checkpoint.settings.mqtt import MqttSettings
from hub.alerts.errors import DeliveryError


class AlertPublisher:
    def __init__(self, settings: MqttSettings, client_id: str, *, timeout_s: float = 5.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._connected = threading.Event()
        self.client = settings.new_client(client_id)
        self.client.max_inflight_messages_set(500)  # publish_many: a whole round in flight
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(
        self, _c: mqtt.Client, _ud: object, _f: object, rc: ReasonCode, _p: object
    ) -> None:
        if not rc.is_failure:  # a refused connect must not count as connected
            self._connected.set()

    def _on_disconnect(self, *_args: object) -> None:
        self._connected.clear()

    def start(self) -> None:
        # connect_async + loop_start: paho reconnects by itself; delivery retries meanwhile.
        self.client.connect_async(self.settings.host, self.settings.port, self.settings.keepalive_s)
        self.client.loop_start()
        self._connected.wait(self.timeout_s)

    def publish(self, topic: str, payload: bytes) -> None:
        """Return once the broker acknowledged (QoS 1 PUBACK); else raise DeliveryError."""
        if not self._connected.is_set():
            raise DeliveryError("not connected to the broker")
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise DeliveryError(f"publish refused: {mqtt.error_string(info.rc)}")
        try:
            info.wait_for_publish(self.timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise DeliveryError(f"publish failed: {exc}") from None
        if not info.is_published():
            raise DeliveryError(f"no PUBACK within {self.timeout_s}s")

    def publish_many(self, messages: list[tuple[str, bytes]]) -> int:
        """Publish all at once, then wait for their PUBACKs: one round trip for a storm of
        alerts rather than one each. Return how many, from the first, were acknowledged
        before a failure; raise DeliveryError only if none was."""
        if not self._connected.is_set():
            raise DeliveryError("not connected to the broker")
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in messages]
        deadline = time.monotonic() + self.timeout_s
        for done, info in enumerate(infos):
            try:
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    raise DeliveryError(f"publish refused: {mqtt.error_string(info.rc)}")
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
                if not info.is_published():
                    raise DeliveryError(f"no PUBACK within {self.timeout_s}s")
            except (RuntimeError, ValueError, DeliveryError) as exc:
                if done == 0:
                    raise DeliveryError(str(exc)) from None
                return done
        return len(infos)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
