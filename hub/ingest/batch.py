"""Make one batch durable: the derivation, then InfluxDB points and dead letters.

Each step is retried with backoff until it succeeds or the hub stops; a step that
succeeded is not repeated. Only then does the consumer acknowledge the batch, so a crash
at any point leaves the messages with the broker, which redelivers them.

The derivation goes first, in a stage of its own (hub/ingest/lane.py): an alert (a
fever) then waits neither for InfluxDB's latency nor for an InfluxDB outage. Redelivered
after a crash between the steps, an event is derived from once (the derivation remembers
what it saw) and its point written again (the same point).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from checkpoint.contract import Event, NodeStatus
from hub.config import HubConfig
from hub.influx.writer import InfluxError, InfluxWriter
from hub.ingest.classify import INFLUX_REFUSED
from hub.ingest.deadletters import DeadLetter, DeadLetterStore
from hub.metrics import HubMetrics

log = logging.getLogger(__name__)


class Derivation(Protocol):
    """What the hub derives from stored traffic (anomaly rules, alerts).

    Called with each batch before its points are written and before it is acknowledged.
    When ``derive`` returns, what it derived must be durable; if it raises, the batch is
    not acknowledged and is retried, so derive must tolerate seeing an event twice.
    """

    def derive(self, events: Sequence[Event], statuses: Sequence[NodeStatus]) -> None: ...


@dataclass(slots=True)
class Pending:
    """One received message on its way to being acknowledged."""

    mid: int
    qos: int
    generation: int  # the connection it arrived on: a mid means nothing on another one
    topic: str
    payload: bytes
    line: str | None = None  # None: nothing to store (status, reject)
    time_ns: int = 0  # the point's time, remembered with the id once stored
    event: Event | None = None
    status: NodeStatus | None = None
    dead: DeadLetter | None = None
    refused_id: str | None = None  # the sound event ``dead`` keeps (bad_timestamp, rate_limited)
    copy: bool = False  # the bulk lane's copy of a priority-lane message
    retained: bool = False  # the broker kept it for new subscribers
    confirm: tuple[str, int] | None = None  # (node, seq) of a node's event, once durable


@dataclass(slots=True)
class BatchOutcome:
    stored: list[Event] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


class BatchWriter:
    def __init__(
        self,
        config: HubConfig,
        influx: InfluxWriter,
        metrics: HubMetrics,
        stop: threading.Event,
        *,
        dead_letters: DeadLetterStore | None,
        derivation: Callable[[], Derivation | None],
        stats: dict[str, int],
    ) -> None:
        self.config = config
        self.influx = influx
        self.metrics = metrics
        self.stop = stop
        self.dead_letters = dead_letters
        self.derivation = derivation
        self.stats = stats  # the consumer's counters, updated live during retries
        self._database_ready = False

    def _retry(self, what: str, step: Callable[[], None]) -> bool:
        """Run ``step`` until it succeeds (True) or the hub stops (False)."""
        backoff = self.config.batch.retry_initial_s
        while True:
            try:
                step()
                return True
            except Exception as exc:  # noqa: BLE001 - any failure: do not ack, retry later
                self.stats["write_errors"] += 1
                self.metrics.write_errors.labels(target=what).inc()
                if self.stop.is_set():
                    return False
                log.warning("%s failed (%s); retrying in %.1fs", what, exc, backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, self.config.batch.retry_max_s)

    def _write_points(self, batch: Sequence[Pending], outcome: BatchOutcome) -> None:
        if not self._database_ready:
            self.influx.create_database()
            self._database_ready = True
        lines = [p.line for p in batch if p.line is not None]
        try:
            self.influx.write_lines(lines)
        except InfluxError as exc:
            if exc.retryable:
                raise
            # InfluxDB refused a point (say a field type conflict): retrying the batch
            # would stall every node, so find the refused points and dead-letter them.
            log.warning("InfluxDB refused part of a batch (%s); writing point by point", exc)
            self._write_one_by_one(batch, outcome)

    def _write_one_by_one(self, batch: Sequence[Pending], outcome: BatchOutcome) -> None:
        for p in batch:
            if p.line is None:
                continue
            try:
                self.influx.write_lines([p.line])
            except InfluxError as exc:
                if exc.retryable:
                    raise
                if p.copy:
                    # The priority lane has this passage or barrier alarm too, and keeps it
                    # as a dead letter: one per message, as for a copy the contract refused.
                    p.line, p.event = None, None
                    self.stats["received"] -= 1
                    continue
                p.dead = DeadLetter(
                    datetime.now(UTC), p.topic, INFLUX_REFUSED, str(exc), p.payload, len(p.payload)
                )
                p.line, p.event = None, None
                outcome.dead.append(p.dead)

    def derive(self, batch: Sequence[Pending]) -> bool:
        """Run the derivation on ``batch``; False if the hub stopped first."""
        # Events to store, and health reports dead-lettered for their time (the consumer
        # keeps those events for the rules: a node's own report of its clock).
        events = [p.event for p in batch if p.event is not None]
        statuses = [p.status for p in batch if p.status is not None]
        derivation = self.derivation()
        if derivation is None or not (events or statuses):
            return True
        return self._retry("derivation", lambda: derivation.derive(events, statuses))

    def store(self, batch: Sequence[Pending], started: float) -> BatchOutcome | None:
        """Write ``batch``'s points and dead letters (``started``: when it was taken up);
        None if the hub stopped first (nothing to acknowledge)."""
        outcome = BatchOutcome()
        if any(p.line is not None for p in batch) and not self._retry(
            "influxdb", lambda: self._write_points(batch, outcome)
        ):
            return None
        letters = [p.dead for p in batch if p.dead is not None]
        if letters and self.dead_letters is not None:
            store = self.dead_letters
            if not self._retry("dead_letters", lambda: store.add_many(letters)):
                return None
        outcome.stored = [p.event for p in batch if p.event is not None and p.line is not None]
        self.metrics.batch_seconds.observe(time.monotonic() - started)
        self.metrics.batch_size.observe(len(batch))
        return outcome
