"""The hub's one way out to the broker: QoS 1 publishes confirmed by PUBACK.

Alerts (``hub/alerts``), the API's config and command pushes (``hub/api``) and the trust
documents (``hub/passes``) all publish through a ``HubPublisher``, each on its own client id
so that none waits behind another. paho reports trouble as return codes; they become one
exception here, at the boundary, as aiomqtt does: ``PublishError``.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import BaseModel

from checkpoint.contract import encode
from checkpoint.errors import CheckpointError
from checkpoint.passes.envelope import seal
from checkpoint.settings.mqtt import MqttSettings

Signer = tuple[str, Ed25519PrivateKey]  # the hub's anchor key: its id and private key


class PublishError(CheckpointError, ConnectionError):
    """The broker did not confirm a message; the caller keeps it and may retry."""


class Publisher(Protocol):
    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Return once the broker acknowledged (PUBACK); raise PublishError otherwise."""
        ...


def publish_document(
    publisher: Publisher, topic: str, name: str, document: BaseModel, signer: Signer | None
) -> None:
    """``document`` retained on ``topic``, sealed as ``name`` with the anchor key (nodes with
    anchors configured take nothing else); plain without one, for development hubs that have
    no pass keys."""
    payload = seal(name, document, *signer) if signer is not None else encode(document)
    publisher.publish(topic, payload, retain=True)


def _confirm(info: mqtt.MQTTMessageInfo, timeout_s: float) -> None:
    """Wait for one message's PUBACK; paho's return codes and errors become PublishError."""
    if info.rc != mqtt.MQTT_ERR_SUCCESS:
        raise PublishError(f"publish refused: {mqtt.error_string(info.rc)}")
    try:
        info.wait_for_publish(max(0.0, timeout_s))
    except (RuntimeError, ValueError) as exc:  # paho: the message was dropped or not queued
        raise PublishError(f"publish failed: {exc}") from None
    if not info.is_published():
        raise PublishError(f"no PUBACK within {timeout_s:.1f}s")


class HubPublisher:
    """One paho client with its own network loop; paho reconnects by itself.

    ``connect_wait_s``: how long a publish waits for a connection before it refuses (0:
    refuse at once, for callers that retry on their own schedule, like alert delivery).
    """

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        *,
        timeout_s: float = 5.0,
        connect_wait_s: float = 0.0,
        max_inflight: int = 20,
    ) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self.connect_wait_s = connect_wait_s
        self._connected = threading.Event()
        self.client = settings.new_client(client_id)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(
        self, _c: mqtt.Client, _ud: object, _f: object, rc: ReasonCode, _p: object
    ) -> None:
        if not rc.is_failure:  # a refused connect must not count as connected
            self._connected.set()

    def _on_disconnect(self, *_args: object) -> None:
        self._connected.clear()

    def start(self, wait_s: float = 0.0) -> bool:
        """Connect in the background; wait up to ``wait_s`` for it. Return whether connected."""
        self.client.connect_async(self.settings.host, self.settings.port, self.settings.keepalive_s)
        self.client.loop_start()
        return self._connected.wait(wait_s)

    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def _require_connection(self) -> None:
        if not self._connected.wait(self.connect_wait_s):
            raise PublishError("the broker is not reachable; nothing was sent")

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Return once the broker acknowledged (QoS 1 PUBACK); else raise PublishError."""
        self._require_connection()
        try:
            _confirm(self.client.publish(topic, payload, qos=1, retain=retain), self.timeout_s)
        except PublishError as exc:
            raise PublishError(f"{topic}: {exc}") from None

    def publish_many(self, messages: list[tuple[str, bytes]]) -> int:
        """Publish all at once, then wait for their PUBACKs: one round trip for a storm of
        messages rather than one each. Return how many, from the first, were acknowledged
        before a failure; raise PublishError only if none was."""
        self._require_connection()
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in messages]
        deadline = time.monotonic() + self.timeout_s
        for done, info in enumerate(infos):
            try:
                _confirm(info, deadline - time.monotonic())
            except PublishError:
                if done == 0:
                    raise
                return done
        return len(infos)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
