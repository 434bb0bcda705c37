"""Consume node events and store them in InfluxDB, acknowledging only what is stored.

paho-mqtt runs with ``manual_ack=True``: a QoS 1 message is PUBACKed after the batch that
holds its point was written. Until then the broker keeps it, and redelivers it to our
persistent session after a crash. The MQTT 5 receive maximum caps how many
unacknowledged messages the broker sends us, so memory stays bounded while InfluxDB is
down: the backlog stays at the broker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from checkpoint.contract import Event, NodeStatus, decode_event, decode_status, topics
from checkpoint.errors import ContractError
from hub.config import HubConfig
from hub.influx.schema import event_point
from hub.influx.v1 import InfluxError, InfluxV1

log = logging.getLogger(__name__)


class Derivation(Protocol):
    """What the hub derives from stored traffic (anomaly rules, alerts).

    Called with each batch after its points are written and before it is acknowledged.
    When ``derive`` returns, what it derived must be durable; if it raises, the batch is
    not acknowledged and is retried, so derive must tolerate seeing an event twice.
    """

    def derive(self, events: Sequence[Event], statuses: Sequence[NodeStatus]) -> None: ...


@dataclass(slots=True)
class Pending:
    mid: int
    qos: int
    line: str | None  # None: nothing to store (status message, rejected input)
    event: Event | None
    status: NodeStatus | None = None


class Ingest:
    def __init__(
        self,
        config: HubConfig,
        influx: InfluxV1,
        *,
        derivation: Derivation | None = None,
        on_stored: Callable[[list[Event]], None] | None = None,
    ) -> None:
        self.config = config
        self.influx = influx
        self.derivation = derivation
        self.on_stored = on_stored
        self.stats = {"received": 0, "stored": 0, "rejected": 0, "write_errors": 0}
        self._pending: list[Pending] = []
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._writer = threading.Thread(target=self._write_loop, name="hub-writer", daemon=True)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        if config.mqtt.username:
            self.client.username_pw_set(config.mqtt.username, config.mqtt.resolved_password())
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    # ---------------------------------------------------------------- MQTT side

    def _on_connect(
        self, client: mqtt.Client, _ud: object, _flags: object, rc: ReasonCode, _p: object
    ) -> None:
        if rc.is_failure:
            log.error("broker refused the hub: %s", rc)
            return
        sub = topics.ALL_EVENTS
        if self.config.share_group:
            sub = topics.shared(self.config.share_group, sub)
        status = topics.ALL_STATUS
        if self.config.share_group:
            status = topics.shared(self.config.share_group, status)
        client.subscribe([(sub, 1), (status, 1)])
        self._connected.set()

    def _on_message(self, _c: mqtt.Client, _ud: object, msg: mqtt.MQTTMessage) -> None:
        self.stats["received"] += 1
        try:
            if msg.topic.endswith("/status"):
                status = decode_status(msg.topic, bytes(msg.payload))
                item = Pending(msg.mid, msg.qos, None, None, status)
            else:
                event = decode_event(msg.topic, bytes(msg.payload))
                item = Pending(msg.mid, msg.qos, event_point(event).to_line(), event)
        except ContractError as exc:
            # The hub issue adds the dead-letter store; until then it is counted and logged.
            self.stats["rejected"] += 1
            log.warning("rejected message on %s: %s", msg.topic, exc)
            item = Pending(msg.mid, msg.qos, None, None)
        with self._lock:
            self._pending.append(item)
            if len(self._pending) >= self.config.batch.max_points:
                self._lock.notify()

    # ---------------------------------------------------------------- writer side

    def _write_loop(self) -> None:
        interval = self.config.batch.max_interval_s
        while True:
            with self._lock:
                if not self._pending and not self._stop.is_set():
                    self._lock.wait(interval)
                batch, self._pending = self._pending, []
            if batch and not self._write_with_retry(batch):
                return  # stopping while InfluxDB is down: the broker keeps the unacked
            if self._stop.is_set() and not self._pending:
                return

    def _write_with_retry(self, batch: list[Pending]) -> bool:
        lines = [p.line for p in batch if p.line is not None]
        backoff = self.config.batch.max_interval_s
        stored = [p.event for p in batch if p.event is not None]
        statuses = [p.status for p in batch if p.status is not None]
        written = False
        while True:
            try:
                if lines and not written:
                    self.influx.write_lines(lines)
                    written = True
                if self.derivation is not None and (stored or statuses):
                    self.derivation.derive(stored, statuses)
                break
            except Exception as exc:  # noqa: BLE001 - any failure: do not ack, retry later
                self.stats["write_errors"] += 1
                if self._stop.is_set():
                    return False
                what = "InfluxDB write" if isinstance(exc, InfluxError) else "derivation"
                log.warning("%s failed (%s); retrying in %.1fs", what, exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        for p in batch:
            if p.qos > 0:
                self.client.ack(p.mid, p.qos)
        self.stats["stored"] += len(stored)
        if self.on_stored is not None and stored:
            self.on_stored(stored)
        return True

    # ---------------------------------------------------------------- lifecycle

    def start(self, timeout_s: float = 10.0) -> None:
        self.influx.create_database()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.config.session_expiry_s
        props.ReceiveMaximum = self.config.batch.receive_maximum
        self.client.connect(
            self.config.mqtt.host,
            self.config.mqtt.port,
            self.config.mqtt.keepalive_s,
            clean_start=False,
            properties=props,
        )
        self._writer.start()
        self.client.loop_start()
        if not self._connected.wait(timeout_s):
            self.stop()
            raise ConnectionError(
                f"hub could not connect to {self.config.mqtt.host}:{self.config.mqtt.port}"
            )

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._lock.notify()
        if self._writer.is_alive():
            self._writer.join(timeout=15)
        self.client.disconnect()
        self.client.loop_stop()
