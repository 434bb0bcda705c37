"""Consume node events and store them in InfluxDB, acknowledging only what is stored.

paho-mqtt runs with ``manual_ack=True``: a QoS 1 message is PUBACKed after the batch that
holds its point was written (hub/ingest/batch.py). Until then the broker keeps it, and
redelivers it to our persistent session (fixed client id, clean start off, session
expiry) after a crash. The MQTT 5 receive maximum caps how many unacknowledged messages
the broker sends us, so memory stays bounded while InfluxDB is down: the backlog stays at
the broker.

Each lane's MQTT session runs in a process of its own (hub/ingest/receiver.py), which
only receives and acknowledges: paho's receive path then has a core to itself, and this
process classifies, stores and derives.

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

from checkpoint.contract import Event, Health, NodeStatus, topics
from hub.config import HubConfig
from hub.influx.schema import event_point, trace_point
from hub.influx.writer import InfluxWriter
from hub.ingest.admission import NodeAdmission
from hub.ingest.batch import BatchWriter, Derivation, Pending
from hub.ingest.classify import ID_REUSED, RATE_LIMITED, Rejected, classify, is_status_topic
from hub.ingest.deadletters import DeadLetter, DeadLetterStore
from hub.ingest.ratelog import RateLimitedLog
from hub.ingest.receiver import SessionProcess, SessionSpec
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
        lock = threading.Lock()
        self._lock = threading.Condition(lock)  # pending: the reader and the derive stage
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
        self._derived: list[tuple[list[Pending], float]] = []  # derived, not yet stored
        self._deriving = True
        self._handoff = threading.Condition(lock)  # derived: the derive and store stages
        self._threads = [
            threading.Thread(target=self._derive_loop, name=f"hub-derive-{name}", daemon=True),
            threading.Thread(target=self._store_loop, name=f"hub-store-{name}", daemon=True),
        ]
        group = config.share_group
        mqtt_settings = config.mqtt.model_copy(
            update={"password": config.mqtt.resolved_password(), "password_credential": None}
        )
        self.session = SessionProcess(
            name,
            SessionSpec(
                mqtt=mqtt_settings,
                client_id=client_id,
                subscriptions=tuple(topics.shared(group, f) if group else f for f in subscriptions),
                session_expiry_s=config.session_expiry_s,
                receive_maximum=config.batch.receive_maximum,
                first_generation=1,
            ),
            on_messages=self._on_messages,
            on_ready=self._on_ready,
            on_down=self._on_down,
        )

    # ---------------------------------------------------------------- MQTT side
    # (the session process's reports, on its reader thread: hub/ingest/receiver.py)

    def _on_ready(self) -> None:
        self._connected.set()
        self._on_connection()

    def _on_down(self, reason: str, failure: bool) -> None:
        self._connected.clear()
        self._on_connection()
        if failure:
            # paho reconnects by itself; the broker keeps our session and the backlog.
            log.warning("hub lost the broker (%s); reconnecting", reason)

    def _on_messages(self, messages: list[tuple[int, int, int, str, bytes]]) -> None:
        items = []
        received = 0
        now = datetime.now(UTC)  # one clock reading per arrival: they came together
        for generation, mid, qos, topic, payload in messages:
            item = Pending(mid, qos, generation, topic, payload)
            if self.copies and is_status_topic(topic):
                pass  # the priority lane's (retained): acknowledged with the batch, unread
            else:
                item.copy = self.copies and is_priority_event_topic(topic)
                received += self._read(item, now)
            items.append(item)
        # Counted once per arrival: a Prometheus counter takes a lock per inc().
        self.stats["received"] += received
        self.metrics.received.inc(received)
        self._queue(items)

    def _read(self, item: Pending, now: datetime) -> bool:
        """Classify and prepare ``item``; False for a copy the priority lane has (not
        counted as received twice)."""
        result = classify(item.topic, item.payload, now, self.config.ingest)
        if item.copy:
            if isinstance(result, Rejected):
                return False  # the priority lane dead-letters it; one dead letter is enough
            if not isinstance(result, NodeStatus) and self.recent.get(result.id) is not None:
                return False  # the priority lane stored it already
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
                line = point.to_line()
                if (trace := trace_point(result)) is not None:
                    line += "\n" + trace.to_line()  # written in the same request
                item.line, item.event, item.time_ns = line, result, point.time_ns
        return True

    def _queue(self, items: list[Pending]) -> None:
        with self._lock:
            self._pending.extend(items)
            self._unacked += len(items)
            self.stats["max_pending"] = max(self.stats["max_pending"], self._unacked)
            batch = self.config.batch
            if len(self._pending) >= min(batch.max_points, batch.receive_maximum):
                self._lock.notify_all()

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

    # ---------------------------------------------------------------- derive and store

    # Two stages, each a thread: derive (rules and alerts), then store (InfluxDB, dead
    # letters) and acknowledge. While InfluxDB is slow or down, batches keep being derived
    # (fevers keep raising alerts) and wait for their points, within the receive maximum.

    def _derive_loop(self) -> None:
        interval = self.interval_s
        try:
            while True:
                with self._lock:
                    if not self._pending and not self._stop.is_set():
                        self._lock.wait(interval)
                    elif (
                        len(self._pending) < self.config.batch.max_points
                        and not self._stop.is_set()
                    ):
                        # Give a trickle a moment to become a batch; a full one goes at once.
                        self._lock.wait(interval)
                    batch, self._pending = self._pending, []
                if batch:
                    self._drop_stored_copies(batch)
                    started = time.monotonic()
                    if not self._batch.derive(batch):
                        return  # stopping while the state store is down: not acked
                    with self._lock:
                        self._derived.append((batch, started))
                        self._handoff.notify()
                if self._stop.is_set() and not self._pending:
                    return
        finally:
            with self._lock:
                self._deriving = False
                self._handoff.notify()

    def _store_loop(self) -> None:
        while True:
            with self._lock:
                while not self._derived and self._deriving:
                    self._handoff.wait()
                if not self._derived:
                    return  # derived and stored all there was
                waiting, self._derived = self._derived, []
            # Batches that waited (InfluxDB slow or down) go out as one write.
            batch = [p for b, _ in waiting for p in b]
            if not self._store(batch, waiting[0][1]):
                return  # stopping while InfluxDB is down: the broker keeps the unacked

    def _drop_stored_copies(self, batch: list[Pending]) -> None:
        for p in batch:
            if p.copy and p.event is not None and self.recent.get(p.event.id) is not None:
                # The priority lane stored it while this copy waited for its batch.
                p.line, p.event = None, None
                self.stats["received"] -= 1

    def _acknowledge(self, batch: list[Pending]) -> None:
        """PUBACK through the session process, per connection (usually one): it drops
        the ids of a connection that has since ended, which the broker sends again."""
        by_generation: dict[int, list[tuple[int, int]]] = {}
        for p in batch:
            if p.qos > 0:
                by_generation.setdefault(p.generation, []).append((p.mid, p.qos))
        for generation, ids in by_generation.items():
            self.session.ack(generation, ids)

    @property
    def unacked(self) -> int:
        return self._unacked

    def _store(self, batch: list[Pending], started: float) -> bool:
        outcome = self._batch.store(batch, started)
        if outcome is None:
            return False
        with self._lock:
            self._unacked -= len(batch)
        self._acknowledge(batch)
        self.recent.add_many(
            (p.event.id, p.time_ns) for p in batch if p.event is not None and p.line is not None
        )
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
        """The derive and store threads run and the session process can run (one that
        merely died is started again)."""
        return all(t.is_alive() for t in self._threads) and self.session.failure is None

    @property
    def connected(self) -> bool:
        """Connected to the broker right now (readiness)."""
        return self._connected.is_set()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        self.session.start()

    def wait_connected(self, timeout_s: float) -> bool:
        """False on timeout, or at once if the session process cannot run."""
        deadline = time.monotonic() + timeout_s
        while not self._connected.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
            if self.session.failure is not None or time.monotonic() >= deadline:
                return False
        return True

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        for thread in self._threads:  # derive, then store
            if thread.is_alive():
                thread.join(timeout=15)
        self.session.stop()  # after the last PUBACKs


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
        """Told of each stored batch, from either lane's store thread."""
        for lane in self.lanes:
            lane.on_stored = callback

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
                why = f": {lane.session.failure}" if lane.session.failure else ""
                raise ConnectionError(
                    f"hub could not connect to {self.config.mqtt.host}:{self.config.mqtt.port}{why}"
                )

    def stop(self) -> None:
        for lane in self.lanes:
            lane.stop()
