"""Deliver queued alert changes: MQTT ward topic, InfluxDB ``alert`` points, webhooks.

The queue is ``alert_outbox`` in the state store, filled in the transaction that made the
change, so a hub crash loses nothing: the next start delivers what is left (at least once).
Each target is delivered in change order: a failed row holds back the later rows of its
target until a retry succeeds, with a delay doubling from ``retry_initial_s`` to
``retry_max_s``. Each target has its own thread, so one slow or dead target never holds
back another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, delete, func, select, update

from checkpoint.contract import topics
from checkpoint.contract.alerts import AlertMessage
from hub.alerts.config import AlertsConfig
from hub.alerts.errors import DeliveryError
from hub.alerts.model import utc
from hub.alerts.tables import alert_outbox
from hub.influx.schema import alert_point
from hub.influx.writer import InfluxError, InfluxWriter
from hub.publisher import HubPublisher, PublishError
from hub.state.locks import exclusive

log = logging.getLogger(__name__)


def _ward(payload: str) -> str:
    return AlertMessage.model_validate_json(payload).ward_id


BATCH = 500


def _due(work: list[Any], now: datetime) -> list[Any]:
    """The rows at the head of ``work`` that are due (in order: a row waiting for its
    retry holds back the rows after it)."""
    due = []
    for row in work:
        if utc(row.next_at) > now:
            break
        due.append(row)
    return due


class AlertDelivery:
    def __init__(
        self,
        engine: Engine,
        config: AlertsConfig,
        *,
        publisher: HubPublisher | None = None,
        influx: InfluxWriter | None = None,
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.config = config
        self.publisher = publisher
        self.influx = influx
        self.http = http or httpx.Client()
        self.clock = clock
        self.stats = {"delivered": 0, "failed_attempts": 0}
        self._stats_lock = threading.Lock()
        self._wakes: dict[str, threading.Event] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # ---------------------------------------------------------------- one round

    def deliver_due(self, now: datetime | None = None, *, target: str | None = None) -> int:
        """Try every due row (of ``target``, or of all) once, in order per target; return
        how many were delivered."""
        # Hub instances sharing a PostgreSQL share this outbox: one round per target at a
        # time across all of them, so that no queued change goes out twice.
        with exclusive(self.engine, f"alert-delivery:{target or '*'}"):
            return self._round(now, target)

    def _round(self, now: datetime | None, target: str | None) -> int:
        now = (now or self.clock()).astimezone(UTC)
        query = select(alert_outbox).order_by(alert_outbox.c.id).limit(BATCH)
        if target is not None:
            query = query.where(alert_outbox.c.target == target)
        with self.engine.connect() as conn:
            work = list(conn.execute(query))
        blocked: set[str] = set()
        done: list[int] = []
        try:
            if target == "mqtt" and self.publisher is not None:
                work = self._publish_round(work, now, done)
            elif target == "influx" and self.influx is not None:
                work = self._write_round(work, now, done)
            for row in work:
                if row.target in blocked:
                    continue
                if utc(row.next_at) > now:
                    blocked.add(row.target)  # keep this target's order: wait for the retry
                    continue
                try:
                    self._send(row.target, row.payload)
                except DeliveryError as exc:
                    blocked.add(row.target)
                    self._failed(row.id, row.attempts, str(exc), now)
                    continue
                done.append(row.id)
        finally:
            # One commit for the round, not one per row: a commit waits for the disk, and a
            # storm of thermometer alerts would otherwise hold a fever back for seconds. A
            # crash before it only means those rows go out again (at least once).
            self._forget(done)
        with self._stats_lock:
            self.stats["delivered"] += len(done)
        return len(done)

    def _publish_round(self, work: list[Any], now: datetime, done: list[int]) -> list[Any]:
        """The MQTT target: its due rows, in order, published in one go. Returns the rows
        left for the one-by-one path (from the first not due or not acknowledged)."""
        assert self.publisher is not None
        due = _due(work, now)
        if not due:
            return work
        try:
            acked = self.publisher.publish_many(
                [(topics.alert_topic(_ward(row.payload)), row.payload.encode()) for row in due]
            )
        except PublishError:
            return work
        done.extend(row.id for row in due[:acked])
        return work[acked:]

    def _write_round(self, work: list[Any], now: datetime, done: list[int]) -> list[Any]:
        """The InfluxDB target: its due rows' points in one write (a storm of alerts is
        one request, not one each). Returns the rows left for the one-by-one path: all of
        them if the write failed, so that a refused point is found and retried alone."""
        assert self.influx is not None
        due = _due(work, now)
        if not due:
            return work
        try:
            self.influx.write_lines(
                [
                    alert_point(AlertMessage.model_validate_json(row.payload)).to_line()
                    for row in due
                ]
            )
        except InfluxError:
            return work
        done.extend(row.id for row in due)
        return work[len(due) :]

    def _forget(self, row_ids: list[int]) -> None:
        if not row_ids:
            return
        with self.engine.begin() as conn:
            for i in range(0, len(row_ids), BATCH):
                chunk = row_ids[i : i + BATCH]
                conn.execute(delete(alert_outbox).where(alert_outbox.c.id.in_(chunk)))

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(alert_outbox)).scalar_one())

    def _failed(self, row_id: int, attempts: int, error: str, now: datetime) -> None:
        with self._stats_lock:
            self.stats["failed_attempts"] += 1
        delay = min(self.config.retry_initial_s * 2**attempts, self.config.retry_max_s)
        log.warning("alert delivery failed (attempt %d): %s", attempts + 1, error)
        with self.engine.begin() as conn:
            conn.execute(
                update(alert_outbox)
                .where(alert_outbox.c.id == row_id)
                .values(
                    attempts=attempts + 1,
                    next_at=now + timedelta(seconds=delay),
                    last_error=error[:512],
                )
            )

    def _send(self, target: str, payload: str) -> None:
        message = AlertMessage.model_validate_json(payload)
        if target == "mqtt":
            if self.publisher is None:
                raise DeliveryError("no MQTT publisher configured")
            try:
                self.publisher.publish(topics.alert_topic(message.ward_id), payload.encode())
            except PublishError as exc:
                raise DeliveryError(str(exc)) from None
        elif target == "influx":
            if self.influx is None:
                raise DeliveryError("no InfluxDB configured")
            try:
                self.influx.write_lines([alert_point(message).to_line()])
            except InfluxError as exc:
                raise DeliveryError(str(exc)) from None
        elif target.startswith("webhook:"):
            self._post(int(target.split(":", 1)[1]), payload)
        else:
            raise DeliveryError(f"unknown delivery target {target!r}")

    def _post(self, index: int, payload: str) -> None:
        if index >= len(self.config.webhooks):
            raise DeliveryError(f"webhook {index} is no longer configured")
        hook = self.config.webhooks[index]
        try:
            resp = self.http.post(
                hook.url,
                content=payload,
                headers={"Content-Type": "application/json"},
                timeout=hook.timeout_s,
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {hook.url}: {exc}") from None
        if not resp.is_success:
            raise DeliveryError(f"webhook {hook.url} answered {resp.status_code}")

    # ---------------------------------------------------------------- background

    def targets(self) -> list[str]:
        found = [t for t, on in (("mqtt", self.config.mqtt), ("influx", self.config.influx)) if on]
        return found + [f"webhook:{i}" for i in range(len(self.config.webhooks))]

    def wake(self) -> None:
        """Deliver now rather than at the next poll (called after a change is stored)."""
        for event in self._wakes.values():
            event.set()

    def _loop(self, target: str, wake: threading.Event) -> None:
        while not self._stop.is_set():
            wake.wait(self.config.poll_s)
            wake.clear()
            try:
                self.deliver_due(target=target)
            except Exception:  # a state store hiccup must not end delivery: log, go on
                log.exception("alert delivery round for %s failed", target)

    def start(self) -> None:
        """One thread per target: a webhook timing out never delays the MQTT alert."""
        for target in self.targets():
            wake = self._wakes[target] = threading.Event()
            thread = threading.Thread(
                target=self._loop, args=(target, wake), name=f"alert-{target}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout=10)
