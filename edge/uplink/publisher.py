"""Publish node events over MQTT 5 with a retained last will.

Walking-skeleton version: each event is published at QoS 1 and the call returns once the
broker's PUBACK arrived. The durable outbox (events on disk first) replaces the direct
call in the edge issue.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from checkpoint import __version__
from checkpoint.contract import Event, NodeStatus, encode, topics
from checkpoint.errors import CheckpointError
from checkpoint.settings.mqtt import MqttSettings

log = logging.getLogger(__name__)


class UplinkError(CheckpointError, ConnectionError):
    pass


def status_payload(node_id: str, state: str) -> bytes:
    status = NodeStatus(
        node_id=node_id,
        state="online" if state == "online" else "offline",
        ts=datetime.now(UTC),
        software_version=__version__,
    )
    return encode(status)


class Publisher:
    def __init__(self, node_id: str, settings: MqttSettings) -> None:
        self.node_id = node_id
        self.settings = settings
        self._connected = threading.Event()
        self._refused: str | None = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=node_id,
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        if settings.username:
            self.client.username_pw_set(settings.username, settings.resolved_password())
        if settings.tls is not None:
            tls = settings.tls
            self.client.tls_set(
                ca_certs=str(tls.ca_file),
                certfile=str(tls.cert_file) if tls.cert_file else None,
                keyfile=str(tls.key_file) if tls.key_file else None,
            )
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
