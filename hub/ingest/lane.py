"""One ingest lane: node events stored in InfluxDB, acknowledged only once stored.

paho-mqtt runs with ``manual_ack=True``: a QoS 1 message is PUBACKed after the batch that
holds its point was written (hub/ingest/batch.py). Until then the broker keeps it, and
redelivers it to our persistent session (fixed client id, clean start off, session
expiry) after a crash. The MQTT 5 receive maximum caps how many unacknowledged messages
the broker sends us, so memory stays bounded while InfluxDB is down: the backlog stays at
the broker.

Each lane's MQTT session runs in a process of its own (hub/ingest/receiver.py), which
only receives and acknowledges: paho's receive path then has a core to itself, and this
process classifies, stores and derives.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from checkpoint.contract import Event, topics
from checkpoint.settings.mqtt import MqttSettings
from hub.config import HubConfig
from hub.influx.writer import InfluxWriter
from hub.ingest.admission import NodeAdmission
from hub.ingest.batch import BatchWriter, Derivation, Pending
from hub.ingest.confirmer import Confirmer
from hub.ingest.deadletters import DeadLetterStore
from hub.ingest.intake import Intake
from hub.ingest.receiver import Message, SessionSpec
from hub.ingest.recent import RecentIds
from hub.ingest.session_process import SessionProcess
from hub.metrics import HubMetrics

log = logging.getLogger(__name__)


_IDLE_S = 0.2  # a lane that batches nothing by age still looks up now and then


def resolved_mqtt(config: HubConfig) -> MqttSettings:
    """The hub's MQTT settings with the password read now (a child process or a client
    started later must not depend on the credentials directory)."""
    return config.mqtt.model_copy(
        update={"password": config.mqtt.resolved_password(), "password_credential": None}
    )


def new_stats() -> dict[str, int]:
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
        spacing_s: float = 0.0,
        derivation: Callable[[], Derivation | None],
        on_connection: Callable[[], None],
        copies: bool = False,
        recent: RecentIds,
        refused: RecentIds,
        admission: NodeAdmission,
        on_stored: Callable[[list[Event]], None] | None = None,
        metrics: HubMetrics,
        dead_letters: DeadLetterStore | None = None,
        confirmer: Confirmer | None = None,
    ) -> None:
        self.name = name
        self.confirmer = confirmer
        self.config = config
        self.influx = influx
        self.subscriptions = subscriptions
        self.interval_s = interval_s  # a batch waits this long to fill (0: none)
        self.spacing_s = spacing_s  # at most one batch this often (with interval 0)
        self.copies = copies  # the bulk lane, beside a priority lane
        self.on_stored = on_stored
        self.metrics = metrics
        self.dead_letters = dead_letters
        self._on_connection = on_connection
        self.stats = new_stats()
        self.recent = recent  # shared by the lanes
        self.intake = Intake(
            config,
            recent=recent,
            refused=refused,
            admission=admission,
            stats=self.stats,
            metrics=metrics,
        )
        self._pending: list[Pending] = []
        self._unacked = 0  # received, not yet acknowledged: queued plus being written
        self.full_at: datetime | None = None  # the last arrival that found the window full
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
        mqtt_settings = resolved_mqtt(config)
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

    def _on_messages(self, messages: list[Message]) -> None:
        items = []
        received = 0
        now = datetime.now(UTC)  # one clock reading per arrival: they came together
        for generation, mid, qos, topic, payload, retain in messages:
            item = Pending(mid, qos, generation, topic, payload, retained=retain)
            if retain and not payload:
                pass  # a retained message deleted (the hub's own clearing): nothing was sent
            elif self.copies and topics.is_status_topic(topic):
                pass  # the priority lane's (retained): acknowledged with the batch, unread
            else:
                item.copy = self.copies and topics.is_priority_event_topic(topic)
                received += self.intake.read(item, now)
            items.append(item)
        # Counted once per arrival: a Prometheus counter takes a lock per inc().
        self.stats["received"] += received
        self.metrics.received.inc(received)
        self._queue(items, now)

    def _queue(self, items: list[Pending], now: datetime) -> None:
        with self._lock:
            self._pending.extend(items)
            self._unacked += len(items)
            self.stats["max_pending"] = max(self.stats["max_pending"], self._unacked)
            batch = self.config.batch
            # Half the window: PUBACKs on their way keep our count under the broker's.
            if self._unacked * 2 >= batch.receive_maximum:
                self.full_at = now
            if self.interval_s == 0 or len(self._pending) >= min(
                batch.max_points, batch.receive_maximum
            ):
                self._lock.notify_all()

    # ---------------------------------------------------------------- derive and store

    # Two stages, each a thread: derive (rules and alerts), then store (InfluxDB, dead
    # letters) and acknowledge. While InfluxDB is slow or down, batches keep being derived
    # (fevers keep raising alerts) and wait for their points, within the receive maximum.

    def _derive_loop(self) -> None:
        interval, spacing = self.interval_s, self.spacing_s
        last = -spacing
        try:
            while True:
                with self._lock:
                    if not self._pending and not self._stop.is_set():
                        # Woken by the next arrival (interval 0) or a full batch.
                        self._lock.wait(interval or _IDLE_S)
                    elif (
                        interval > 0
                        and len(self._pending) < self.config.batch.max_points
                        and not self._stop.is_set()
                    ):
                        # Give a trickle a moment to become a batch; a full one goes at once.
                        self._lock.wait(interval)
                    elif spacing > 0 and not self._stop.is_set():
                        # At once after a quiet spell; under load one batch per ``spacing``,
                        # so that a city's passages share a transaction and a write.
                        early = last + spacing - time.monotonic()
                        if early > 0:
                            self._lock.wait(early)
                    batch, self._pending = self._pending, []
                if batch:
                    last = time.monotonic()  # spacing counts from a batch, not an idle wake
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
        # Kept as dead letters: a copy sent again is not kept twice (intake.py). Noted before
        # the PUBACKs, so that no copy can come in between.
        self.intake.refused.add_many((p.refused_id, 0) for p in batch if p.refused_id)
        self._acknowledge(batch)
        # Refused and kept: now the broker may forget what it retained (or the next
        # subscription would bring it again).
        self.session.clear_retained([p.topic for p in batch if p.retained and p.dead is not None])
        if self.confirmer is not None:  # derived and written: the node may let them go
            self.confirmer.add(p.confirm for p in batch if p.confirm is not None)
        # Distinct events only: a redelivery, or the bulk lane's copy of a passage that
        # raced the priority lane's, is the same point and is not counted or shown again.
        kept = [(p, p.event) for p in batch if p.event is not None and p.line is not None]
        before = self.recent.add_many(((e.id, p.time_ns) for p, e in kept), self.name)
        stored = [e for (_, e), lane in zip(kept, before, strict=True) if lane is None]
        again = [lane for lane in before if lane is not None]
        raced = sum(lane != self.name for lane in again)  # the other lane stored it first
        self.stats["received"] -= raced
        self.stats["duplicates"] += len(again) - raced
        self.metrics.duplicates.inc(len(again) - raced)
        for dead in outcome.dead:  # points InfluxDB itself refused
            self.stats["rejected"] += 1
            self.metrics.rejected.labels(reason=dead.reason).inc()
        self.stats["stored"] += len(stored)
        self.metrics.stored.inc(len(stored))
        self.metrics.statuses.inc(sum(1 for p in batch if p.status is not None))
        if self.on_stored is not None and stored:
            self.on_stored(stored)
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
