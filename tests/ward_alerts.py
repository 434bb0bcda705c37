"""The ward's alert topic as the command centre hears it: every message, in order."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from checkpoint.contract import topics
from checkpoint.contract.alerts import AlertChange, AlertMessage


class WardAlerts:
    def __init__(self, host: str, port: int, ward_id: str) -> None:
        self.messages: list[AlertMessage] = []
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        subscribed = threading.Event()
        self._client.on_message = lambda _c, _u, msg: self.messages.append(
            AlertMessage.model_validate_json(msg.payload)
        )
        self._client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(
            topics.alert_topic(ward_id), qos=1
        )
        self._client.on_subscribe = lambda *_a: subscribed.set()
        self._client.connect(host, port)
        self._client.loop_start()
        if not subscribed.wait(10):
            self.close()
            raise AssertionError(f"no SUBACK for the alert topic of {ward_id}")

    def opened(self, kind: str | None = None) -> list[AlertMessage]:
        """The "new" messages (of ``kind``): one per alert the hub opened."""
        return [
            m
            for m in self.messages
            if m.change is AlertChange.NEW and (kind is None or m.kind == kind)
        ]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
