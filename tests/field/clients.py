"""A small MQTT client for the broker tests: connects with a bundle's TLS files, records
what the broker says (CONNACK, SUBACK) and every message it receives."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode


class Refused(Exception):
    """The broker refused the connection (CONNACK with a failure code)."""


class User:
    def __init__(
        self,
        client_id: str,
        files: Path,
        stem: str = "node",
        *,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
    ) -> None:
        """``files`` holds the client's STEM.pem/STEM.key and, unless ``ca_file`` says
        otherwise, ward-ca.pem. The provisioned
        broker takes the user name from the certificate and ignores any password: a
        ``username``/``password`` here is what a client claims, for the identity tests."""
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        cert, key = files / f"{stem}.pem", files / f"{stem}.key"
        self.client.tls_set(
            ca_certs=str(ca_file or files / "ward-ca.pem"),
            certfile=str(cert) if cert.exists() else None,
            keyfile=str(key) if key.exists() else None,
        )
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        # None: the connection closed before any CONNACK (a TLS refusal shows up so).
        self._connack: queue.Queue[ReasonCode | None] = queue.Queue()
        self._subacks: queue.Queue[list[ReasonCode]] = queue.Queue()
        self.disconnected = threading.Event()
        self.client.on_connect = lambda _c, _u, _f, rc, _p: self._connack.put(rc)
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = lambda _c, _u, _mid, rcs, _p: self._subacks.put(list(rcs))
        self.client.on_message = lambda _c, _u, msg: self.messages.put(msg)

    def _on_disconnect(self, *_args: object) -> None:
        self.disconnected.set()
        self._connack.put(None)

    def connect(
        self, host: str, port: int, timeout_s: float = 10.0, *, session_expiry_s: int = 0
    ) -> None:
        """``session_expiry_s`` > 0: resume the broker-kept session, queued messages and all."""
        props = None
        if session_expiry_s:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = session_expiry_s
        self.disconnected.clear()
        self.client.connect(
            host, port, keepalive=30, clean_start=not session_expiry_s, properties=props
        )
        self.client.loop_start()
        rc = self._connack.get(timeout=timeout_s)
        if rc is None or rc.is_failure:
            self.close()
            raise Refused(str(rc or "connection closed before CONNACK"))

    def subscribe(self, topic: str, timeout_s: float = 10.0) -> list[ReasonCode]:
        self.client.subscribe(topic, qos=1)
        return self._subacks.get(timeout=timeout_s)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish at QoS 1 and wait for the broker's PUBACK."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(10.0)

    def publish_denied(self, topic: str, payload: bytes, timeout_s: float = 10.0) -> None:
        """Publish where the ACL forbids it. Mosquitto 2.0 answers by dropping the message
        and closing the connection (eclipse-mosquitto/mosquitto#2579): wait for that."""
        self.client.publish(topic, payload, qos=1)
        if not self.disconnected.wait(timeout_s):
            raise AssertionError(f"the broker kept {topic!r} and the connection")
        self.client.loop_stop()

    def receive_until(self, payload: bytes, timeout_s: float = 10.0) -> list[mqtt.MQTTMessage]:
        """Every message up to and including the one carrying ``payload``."""
        got: list[mqtt.MQTTMessage] = []
        while True:
            msg = self.messages.get(timeout=timeout_s)
            got.append(msg)
            if msg.payload == payload:
                return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
