"""The outbox's delivery side: what the link sends next, what the broker has, and what the
hub confirmed. A mixin of ``Outbox`` (edge/uplink/outbox.py), which owns the file.

An event passes three states: waiting (``sent_at`` NULL), sent (the broker's PUBACK came:
``sent_at`` is set) and gone (the hub confirmed it durable: deleted). The broker's PUBACK
is not the end: Mosquitto 2.0 acknowledges before it saves, so a broker crash can lose
what it queued for a hub that was away. Sent events therefore go back to waiting

- on every new connection (``resend_all``): a crashed broker, a hub's lost
  confirmation, a process restart all show as a reconnect; and
- when the hub has confirmed events of the same type sent ``timeout`` later than them
  (``resend_stale``): the hub is there and reads that type's queue in order, so these were
  lost on the way (a hub that died between its write and its confirmation). While no
  confirmation comes at all (the hub away) nothing is sent twice: the broker holds it.

The drain goes by class, then by sequence: passages, barrier alarms, health and acks
before readings, so that after an outage an alarm does not wait behind hours of readings.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Final, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# Drain classes: what the command centre must hear of at once, then backlog telemetry.
URGENT: Final = 0
READINGS: Final = 1


def drain_class(event_type: str) -> int:
    return READINGS if event_type == "reading" else URGENT


@dataclass(frozen=True, slots=True)
class Stored:
    """An event as the outbox holds it, ready to publish."""

    seq: int
    type: str
    payload: bytes


class Delivery:
    """The delivery side of ``Outbox``; the attributes below are the outbox's."""

    _db: sqlite3.Connection
    _lock: threading.Lock
    _count: int
    _bytes: int
    _unsent: int
    _confirmed_sent_at: dict[str, float]

    def _load_delivery_state(self) -> None:
        (self._unsent,) = self._db.execute(
            "SELECT count(*) FROM events WHERE sent_at IS NULL"
        ).fetchone()
        self._confirmed_sent_at = {}

    def due(self, limit: int, skip: Collection[int] = ()) -> list[Stored]:
        """Up to ``limit`` events waiting to be sent, urgent ones first, each class in
        sequence order; ``skip``: those already published and awaiting their PUBACK."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, type, payload FROM events WHERE sent_at IS NULL "
                "ORDER BY drain, seq LIMIT ?",
                (limit + len(skip),),
            ).fetchall()
        return [Stored(s, t, bytes(p)) for s, t, p in rows if s not in skip][:limit]

    def mark_sent(self, seqs: Iterable[int]) -> None:
        """The broker acknowledged these (PUBACK): kept, sent, until the hub confirms."""
        now = time.monotonic()
        params = [(now, s) for s in seqs]

        def run() -> int:
            statement = "UPDATE events SET sent_at = ? WHERE seq = ? AND sent_at IS NULL"
            return sum(self._db.execute(statement, p).rowcount for p in params)

        def apply(marked: int) -> None:
            self._unsent -= marked

        self._unsynced("mark sent", len(params), run, apply)

    def confirm(self, ranges: Iterable[tuple[int, int]]) -> int:
        """The hub made these durable: delete them. Returns how many were still here."""
        params = list(ranges)

        def run() -> list[tuple[str, int, float | None]]:
            statement = "DELETE FROM events WHERE seq BETWEEN ? AND ? RETURNING type, size, sent_at"
            return [row for p in params for row in self._db.execute(statement, p).fetchall()]

        def apply(removed: list[tuple[str, int, float | None]]) -> None:
            for event_type, size, sent_at in removed:
                self._count -= 1
                self._bytes -= size
                if sent_at is None:
                    self._unsent -= 1
                elif sent_at > self._confirmed_sent_at.get(event_type, float("-inf")):
                    self._confirmed_sent_at[event_type] = sent_at

        removed = self._unsynced("delete confirmed", len(params), run, apply)
        return len(removed or ())

    def resend_all(self) -> int:
        """Every sent, unconfirmed event waits to be sent again (a new connection)."""
        return self._resend("UPDATE events SET sent_at = NULL WHERE sent_at IS NOT NULL", ())

    def resend_stale(self, timeout_s: float) -> int:
        """Sent events the hub passed over: it confirmed one of their type sent more than
        ``timeout_s`` after them. Returns how many go again."""
        again = 0
        for event_type, through in list(self._confirmed_sent_at.items()):
            again += self._resend(
                "UPDATE events SET sent_at = NULL WHERE type = ? AND sent_at < ?",
                (event_type, through - timeout_s),
            )
        return again

    def _resend(self, statement: str, params: tuple[object, ...]) -> int:
        with self._lock:
            try:
                changed = self._db.execute(statement, params).rowcount
            except sqlite3.Error as exc:  # they stay sent; the next reconnect tries again
                log.warning("outbox: could not mark events for sending again: %s", exc)
                return 0
            self._unsent += changed
        return changed

    def _unsynced(
        self, what: str, count: int, run: Callable[[], T], apply: Callable[[T], None]
    ) -> T | None:
        """``run`` in one transaction without fsync (a state lost in a power cut only
        means a redelivery, which the hub stores once), then ``apply`` its result to the
        in-memory figures, under the lock; None if it failed."""
        if not count:
            return None
        with self._lock:
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                result = run()
                self._after_delivery_write()
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                # Not fatal: the events keep their state and go out again if need be.
                if self._db.in_transaction:
                    self._db.rollback()
                log.warning("outbox: could not %s (%d): %s", what, count, exc)
                return None
            finally:
                self._db.execute("PRAGMA synchronous=FULL")
            apply(result)
        return result

    def _after_delivery_write(self) -> None:
        """Hook inside the transaction (the outbox records its sequence counter)."""
