"""Consume node events and store them in InfluxDB, acknowledging only what is stored.

paho-mqtt runs with ``manual_ack=True``: a QoS 1 message is PUBACKed after the batch that
holds its point was written (hub/ingest/batch.py). Until then the broker keeps it, and
redelivers it to our persistent session (fixed client id, clean start off, session
expiry) after a crash. The MQTT 5 receive maximum caps how many unacknowledged messages
the broker sends us, so memory stays bounded while InfluxDB is down: the backlog stays at
the broker.

Two lanes, each its own session and batches: passages, barrier alarms and node statuses
(what the command centre must hear about at once) come through the priority lane, and
everything else (readings above all) through the bulk lane. A backlog of readings at the
broker, after an outage or under a flood, then never holds back a fever.

The bulk lane's subscription (``up/#``) gets the priority topics too. Its copy of a
passage or barrier alarm is dropped only once the priority lane has stored that event;
otherwise (the priority session is newer than a backlog queued for the bulk one, as on the
first start of a hub with lanes) it is stored as any event, which is harmless: the same
point, and the rules derive from an event once. Statuses are retained messages, which a
new priority session gets on subscribing, so the bulk lane leaves them alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from checkpoint.contract import Event, Health, NodeStatus, topics
from hub.config import HubConfig
from hub.influx.schema import event_point
from hub.influx.writer import InfluxWriter
from hub.ingest.admission import NodeAdmission
from hub.ingest.batch import BatchWriter, Derivation, Pending
from hub.ingest.classify import ID_REUSED, RATE_LIMITED, Rejected, classify, is_status_topic
from hub.ingest.deadletters import DeadLetter, DeadLetterStore
from hub.ingest.ratelog import RateLimitedLog
from hub.ingest.recent import RecentIds
from hub.metrics import HubMetrics

__all__ = ["Derivation", "Ingest", "Lane", "Pending"]

log = logging.getLogger(__name__)

# Everything nodes publish, so that a message on a topic the hub does not know is
# dead-lettered as ``unknown_topic`` rather than never seen.
SUBSCRIPTION = f"{topics.UP}/#"
PRIORITY_SUBSCRIPTIONS = (
    f"{topics.UP}/+/events/passage",
    f"{topics.UP}/+/events/barrier",
    topics.ALL_STATUS,
)


def is_priority_event_topic(topic: str) -> bool:
    """A passage or barrier alarm (split by hand: this runs for every message)."""
    parts = topic.split("/")
    return len(parts) == 6 and parts[4] == "events" and parts[5] in ("passage", "barrier")


def _new_stats() -> dict[str, int]:
    return {
        "received": 0,
        "stored": 0,
        "rejected": 0,
        "duplicates": 0,
        "write_errors": 0,
        "max_pending": 0,
        "statuses": 0,
    }


class Lane:
    """One session: an MQTT client, its pending messages and the thread that writes them."""

    def __init__(
        self,
        name: str,
        config: HubConfig,
        influx: InfluxWriter,
        *,
        client_id: str,
        subscriptions: tuple[str, ...],
        interval_s: float,
        derivation: Callable[[], Derivation | None],
        on_connection: Callable[[], None],
        copies: bool = False,
        recent: RecentIds,
        admission: NodeAdmission,
        on_stored: Callable[[list[Event]], None] | None = None,
        metrics: HubMetrics,
        dead_letters: DeadLetterStore | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.influx = influx
        self.subscriptions = subscriptions
        self.interval_s = interval_s
        self.copies = copies  # the bulk lane, beside a priority lane
        self.on_stored = on_stored
        self.metrics = metrics
        self.dead_letters = dead_letters
        self._on_connection = on_connection
        self.stats = _new_stats()
        self.recent = recent  # shared by the lanes
        self._reject_log = RateLimitedLog(log, config.ingest.reject_log_per_min)
        self.admission = admission
        self._pending: list[Pending] = []
        self._unacked = 0  # received, not yet acknowledged: queued plus being written
        self._generation = 0
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._batch = BatchWriter(
            config,
            influx,
            self.metrics,
            self._stop,
            dead_letters=dead_letters,
            derivation=derivation,
            stats=self.stats,
        )
        self._writer = threading.Thread(
            target=self._write_loop, name=f"hub-writer-{name}", daemon=True
        )
        self.client = config.mqtt.new_client(client_id, manual_ack=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect

    # ---------------------------------------------------------------- MQTT side

    def _on_connect(
        self,
        client: mqtt.Client,
        _ud: object,
        flags: mqtt.ConnectFlags,
        rc: ReasonCode,
        _p: object,
    ) -> None:
        if rc.is_failure:
            log.error("broker refused the hub: %s", rc)
            return
        with self._lock:
            # Unacknowledged messages of the old connection will be redelivered with new
            # packet ids; acknowledging an old id on this connection would ack the wrong one.
            self._generation += 1
        group = self.config.share_group
        client.subscribe([(topics.shared(group, f) if group else f, 1) for f in self.subscriptions])
        if flags.session_present:
            # The session kept our subscription: ready now. The SUBACK may come only after
            # a backlog of queued messages, which we are already receiving.
            self._ready()

    def _ready(self) -> None:
        self._connected.set()
        self._on_connection()

    def _on_subscribe(
        self, _c: mqtt.Client, _ud: object, _mid: int, codes: list[ReasonCode], _p: object
    ) -> None:
        if any(code.is_failure for code in codes):
            log.error("broker refused the hub's subscription: %s", codes)
            return
        # A new session is ready only now: a message published before may be missed.
        self._ready()

    def _on_disconnect(
        self, _c: mqtt.Client, _ud: object, _flags: object, rc: ReasonCode, _p: object
    ) -> None:
        self._connected.clear()
        self._on_connection()
        if rc.is_failure:
            # paho reconnects by itself; the broker keeps our session and the backlog.
            log.warning("hub lost the broker (%s); reconnecting", rc)

    def _on_message(self, _c: mqtt.Client, _ud: object, msg: mqtt.MQTTMessage) -> None:
        item = Pending(msg.mid, msg.qos, self._generation, msg.topic, b"")
        if self.copies and is_status_topic(msg.topic):
            pass  # the priority lane's (retained): acknowledged with the batch, unread
        else:
            item.copy = self.copies and is_priority_event_topic(msg.topic)
            self._read(item, bytes(msg.payload))
        self._queue(item)

    def _read(self, item: Pending, payload: bytes) -> None:
        item.payload = payload
        now = datetime.now(UTC)
        result = classify(item.topic, payload, now, self.config.ingest)
        if item.copy:
            if isinstance(result, Rejected):
                return  # the priority lane dead-letters it; one dead letter is enough
            if not isinstance(result, NodeStatus) and self.recent.get(result.id) is not None:
                return  # the priority lane stored it already
        self.stats["received"] += 1
        self.metrics.received.inc()
        if isinstance(result, NodeStatus):
            item.status = result
            self.stats["statuses"] += 1
        elif isinstance(result, Rejected):
            self._reject(item, result, now)
            if isinstance(result.event, Health):
                # Dead-lettered for its time, yet a node's own report: the rules still
                # hear it (no line: it is not stored), or a node whose clock jumped far
                # ahead would only ever look silent, never raise clock_skew.
                item.event = result.event
        elif not self.admission.admit(result.node_id, result.ts.timestamp()):
            # Valid, but its node is over budget: kept as a dead letter (one row, no rules
            # pass) so that the broker's queue, which every node shares, keeps moving.
            detail = (
                f"node {result.node_id} made more than {self.config.ingest.node_max_per_minute} "
                f"events in the minute of {result.ts.isoformat()}; event {result.id}"
            )
            self._reject(item, Rejected(RATE_LIMITED, detail), now)
        else:
            point = event_point(result)
            seen = self.recent.get(result.id)
            if seen is not None and seen != point.time_ns:
                detail = (
                    f"event id {result.id} was stored at {seen} ns, "
                    f"this one would be at {point.time_ns} ns"
                )
                self._reject(item, Rejected(ID_REUSED, detail), now)
            else:
                if seen is not None:
                    # Stored before (redelivery, replay): written again it overwrites its
                    # own point, which is cheaper than a second code path.
                    self.stats["duplicates"] += 1
                    self.metrics.duplicates.inc()
                item.line, item.event, item.time_ns = point.to_line(), result, point.time_ns

    def _queue(self, item: Pending) -> None:
        with self._lock:
            self._pending.append(item)
            self._unacked += 1
            self.stats["max_pending"] = max(self.stats["max_pending"], self._unacked)
            batch = self.config.batch
            if len(self._pending) >= min(batch.max_points, batch.receive_maximum):
                self._lock.notify_all()
            self._hold_back(batch.receive_maximum)

    def _hold_back(self, limit: int) -> None:
        """Block the MQTT thread while ``limit`` messages are unacknowledged.

        The broker should never send more than the receive maximum, but Mosquitto 2.0.11
        (Debian bookworm) sends its whole queue once the first PUBACK frees a slot. Not
        returning from on_message stops paho reading the socket, so the rest stays in the
        broker and in TCP buffers instead of our memory. Never longer than half the
        keepalive at a time, so that the connection stays alive if InfluxDB stalls.
        """
        deadline = time.monotonic() + self.config.mqtt.keepalive_s / 2
        while self._unacked >= limit and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._lock.wait(min(remaining, 0.5))

    def _reject(self, item: Pending, rejected: Rejected, now: datetime) -> None:
        self.stats["rejected"] += 1
        self.metrics.rejected.labels(reason=rejected.reason).inc()
        limit = self.config.ingest.dead_letter_max_bytes
        item.dead = DeadLetter(
            now,
            item.topic,
            rejected.reason,
            rejected.detail,
            item.payload[:limit],
            len(item.payload),
        )
        self._reject_log.report(
            rejected.reason,
            "rejected %s on %s: %s",
            rejected.reason,
            item.topic,
            rejected.detail[:300],
        )

    # ---------------------------------------------------------------- writer side

    def _write_loop(self) -> None:
        interval = self.interval_s
        while True:
            with self._lock:
                if not self._pending and not self._stop.is_set():
                    self._lock.wait(interval)
                elif len(self._pending) < self.config.batch.max_points and not self._stop.is_set():
                    # Give a trickle a moment to become a batch; a full one goes at once.
                    self._lock.wait(interval)
                batch, self._pending = self._pending, []
            if batch and not self._process(batch):
                return  # stopping while InfluxDB is down: the broker keeps the unacked
            if self._stop.is_set() and not self._pending:
                return

    @property
    def unacked(self) -> int:
        return self._unacked

    def _process(self, batch: list[Pending]) -> bool:
        for p in batch:
            if p.copy and p.event is not None and self.recent.get(p.event.id) is not None:
                # The priority lane stored it while this copy waited for its batch.
                p.line, p.event = None, None
                self.stats["received"] -= 1
        outcome = self._batch.write(batch)
        if outcome is None:
            return False
        with self._lock:
            generation = self._generation
            # Before the PUBACKs go out: the broker may send the next message at once.
            self._unacked -= len(batch)
            self._lock.notify_all()  # wakes an MQTT thread held back in _hold_back
        for p in batch:
            if p.qos > 0 and p.generation == generation:
                self.client.ack(p.mid, p.qos)
        for p in batch:
            if p.event is not None and p.line is not None:
                self.recent.add(p.event.id, p.time_ns)
        for dead in outcome.dead:  # points InfluxDB itself refused
            self.stats["rejected"] += 1
            self.metrics.rejected.labels(reason=dead.reason).inc()
        self.stats["stored"] += len(outcome.stored)
        self.metrics.stored.inc(len(outcome.stored))
        self.metrics.statuses.inc(sum(1 for p in batch if p.status is not None))
        if self.on_stored is not None and outcome.stored:
            self.on_stored(outcome.stored)
        return True

    # ---------------------------------------------------------------- lifecycle

    @property
    def writer_alive(self) -> bool:
        return self._writer.is_alive()

    @property
    def connected(self) -> bool:
        """Connected to the broker right now (readiness)."""
        return self._connected.is_set()

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.config.session_expiry_s
        props.ReceiveMaximum = self.config.batch.receive_maximum
        self._writer.start()
        self.client.connect_async(
            self.config.mqtt.host,
            self.config.mqtt.port,
            self.config.mqtt.keepalive_s,
            clean_start=False,
            properties=props,
        )
        self.client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        if self._writer.is_alive():
            self._writer.join(timeout=15)
        self.client.disconnect()
        self.client.loop_stop()


class Ingest:
    """The hub's ingest: a bulk lane and (``ingest.priority_lane``) a priority lane."""

    def __init__(
        self,
        config: HubConfig,
        influx: InfluxWriter,
        *,
        derivation: Derivation | None = None,
        on_stored: Callable[[list[Event]], None] | None = None,
        metrics: HubMetrics | None = None,
        dead_letters: DeadLetterStore | None = None,
    ) -> None:
        self.config = config
        self.derivation = derivation  # may be set after construction, before start()
        self.metrics = metrics or HubMetrics()
        priority = config.ingest.priority_lane
        recent = RecentIds(config.ingest.recent_ids)
        # One budget per node across both lanes.
        self.admission = NodeAdmission(config.ingest.node_max_per_minute)

        def lane(name: str, **kwargs: Any) -> Lane:
            return Lane(
                name,
                config,
                influx,
                derivation=lambda: self.derivation,
                on_connection=self._connection_changed,
                admission=self.admission,
                recent=recent,
                on_stored=on_stored,
                metrics=self.metrics,
                dead_letters=dead_letters,
                **kwargs,
            )

        self.lanes = [
            lane(
                "bulk",
                client_id=config.client_id,
                subscriptions=(SUBSCRIPTION,),
                interval_s=config.batch.max_interval_s,
                copies=priority,
            )
        ]
        if priority:
            self.lanes.append(
                lane(
                    "priority",
                    client_id=f"{config.client_id}-priority",
                    subscriptions=PRIORITY_SUBSCRIPTIONS,
                    interval_s=min(config.batch.max_interval_s, config.batch.priority_interval_s),
                )
            )
        self.metrics.set_pending_source(lambda: sum(lane.unacked for lane in self.lanes))

    @property
    def on_stored(self) -> Callable[[list[Event]], None] | None:
        return self.lanes[0].on_stored

    @on_stored.setter
    def on_stored(self, callback: Callable[[list[Event]], None] | None) -> None:
        """Told of each stored batch, from either lane's writer thread."""
        for lane in self.lanes:
            lane.on_stored = callback

    @property
    def client(self) -> mqtt.Client:
        """The bulk lane's MQTT client."""
        return self.lanes[0].client

    @property
    def stats(self) -> dict[str, int]:
        """The lanes' counters added up (``max_pending`` is the largest lane's)."""
        total = _new_stats()
        for lane in self.lanes:
            for key, value in lane.stats.items():
                total[key] = max(total[key], value) if key == "max_pending" else total[key] + value
        return total

    def _connection_changed(self) -> None:
        self.metrics.connected.set(1 if self.connected else 0)

    @property
    def writer_alive(self) -> bool:
        return all(lane.writer_alive for lane in self.lanes)

    @property
    def connected(self) -> bool:
        """Every lane connected to the broker right now (readiness)."""
        return all(lane.connected for lane in self.lanes)

    def start(self, timeout_s: float = 10.0) -> None:
        for lane in self.lanes:
            lane.start()
        deadline = time.monotonic() + timeout_s
        for lane in self.lanes:
            if not lane.wait_connected(max(0.0, deadline - time.monotonic())):
                self.stop()
                raise ConnectionError(
                    f"hub could not connect to {self.config.mqtt.host}:{self.config.mqtt.port}"
                )

    def stop(self) -> None:
        for lane in self.lanes:
            lane.stop()
