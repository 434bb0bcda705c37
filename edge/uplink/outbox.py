"""The durable outbox: every event is committed to SQLite before ``emit`` returns, and
deleted only when the hub confirmed it durable (edge/uplink/outbox_delivery.py: the
broker's PUBACK only marks it sent).

- WAL mode with ``synchronous=FULL`` for appends: a committed event survives kill -9 and
  power loss. Marking sent and deleting run with ``synchronous=NORMAL``: a change lost in
  a power cut only means a redelivery, which the hub stores once (same id, same point).
- Sequence numbers never repeat, even after the events holding the highest numbers were
  delivered: every transaction that deletes events also records the counter.
- Bounded by payload bytes. When full, telemetry (``health``, ``reading``) gives way first,
  oldest first; only when no telemetry is left do the oldest of the rest go. Every event
  given way is counted by type, persistently, and the count travels in the health event.
- A full disk (SQLITE_FULL) makes room by dropping telemetry and retries once; an event
  that still cannot be stored is counted as lost and flagged (``disk_full``). ``emit`` does
  not raise: the node keeps deciding locally.
- The file stops growing ``disk_headroom_bytes`` short of a full disk (SQLite's
  ``max_page_count``, set from the free space before each append). A disk really full
  would be final: making room, deleting what the broker acknowledged and checkpointing
  the WAL all write to the WAL first, so none of them could run. Within the headroom they
  can, and freed pages are reused, so the outbox recovers once the backlog drains.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from checkpoint.contract import encode, uuid7
from checkpoint.contract.models import EventBase, EventType
from edge.uplink.outbox_db import open_outbox_db
from edge.uplink.outbox_delivery import Delivery, Stored, drain_class

log = logging.getLogger(__name__)

E = TypeVar("E", bound=EventBase)

# What gives way first when the outbox is full: periodic telemetry, which the next health
# event or reading replaces, before passages, barrier alarms and acks, which are unique.
TELEMETRY: Final = frozenset({EventType.HEALTH.value, EventType.READING.value})


def _is_full(exc: sqlite3.Error) -> bool:
    return exc.sqlite_errorcode == sqlite3.SQLITE_FULL


__all__ = ["TELEMETRY", "Outbox", "Stored"]


class Outbox(Delivery):
    """Implements edge.events.Emitter; the uplink drains it."""

    def __init__(
        self,
        path: Path,
        *,
        node_id: str,
        checkpoint_id: str,
        ward_id: str,
        max_bytes: int,
        page_limit: int | None = None,
        disk_headroom_bytes: int = 8 * 1024 * 1024,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``page_limit`` caps the file at that many SQLite pages (SQLite then reports a
        full disk): for a node whose state shares a small partition, and for tests.
        ``disk_headroom_bytes``: disk space the file leaves free for the WAL (see above)."""
        self.path = path
        self.node_id = node_id
        self.checkpoint_id = checkpoint_id
        self.ward_id = ward_id
        self.max_bytes = max_bytes
        self.clock = clock
        self.flags: set[str] = set()
        self.lost = 0  # events that could not be stored at all (disk full), this run
        self.page_limit = page_limit
        self.disk_headroom_bytes = disk_headroom_bytes
        self.changed = threading.Event()  # set on every append: wakes the drain
        self._lock = threading.Lock()  # the connection, and the right to commit
        self._pending_lock = threading.Lock()  # seq counter and events awaiting commit
        self._pending: list[Stored] = []
        self._db, replaced = open_outbox_db(path)
        if replaced:
            self.flags.add("outbox_corrupt")
        (self._page_size,) = self._db.execute("PRAGMA page_size").fetchone()
        # The WAL is checkpointed (and then reused from its start) well within the headroom.
        wal_pages = max(16, disk_headroom_bytes // self._page_size // 2)
        self._db.execute(f"PRAGMA wal_autocheckpoint={wal_pages}")
        self._cap_pages()
        self._load_state()

    def _cap_pages(self) -> None:
        """Let the file grow only into the disk's free space beyond the headroom, so that
        SQLite reports SQLITE_FULL while the WAL can still take the transaction that makes
        room (other files on the partition may have grown since the last append)."""
        (pages,) = self._db.execute("PRAGMA page_count").fetchone()
        try:
            st = os.statvfs(self.path.parent)
            spare = st.f_bavail * st.f_frsize - self.disk_headroom_bytes
        except OSError:
            spare = 0
        # SQLite's own ceiling (a 32-bit page number): a huge disk must not wrap around.
        limit = min(pages + max(0, spare // self._page_size), 0xFFFFFFFE)
        if self.page_limit is not None:
            limit = min(limit, self.page_limit)
        # SQLite never lowers the limit below the current page count.
        self._db.execute(f"PRAGMA max_page_count={int(limit)}")

    def _load_state(self) -> None:
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        (max_seq,) = self._db.execute("SELECT max(seq) FROM events").fetchone()
        self._next_seq: int = max(meta.get("next_seq", 0), (max_seq or -1) + 1)
        self._written_through = self._next_seq - 1
        self.dropped: dict[str, int] = {
            k.removeprefix("dropped:"): v for k, v in meta.items() if k.startswith("dropped:")
        }
        count, size = self._db.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM events"
        ).fetchone()
        self._count: int = count
        self._bytes: int = size
        (self.rejected,) = self._db.execute("SELECT count(*) FROM rejected").fetchone()
        self._load_delivery_state()

    # ---------------------------------------------------------------- the Emitter side

    def emit(self, kind: type[E], /, **fields: Any) -> E:
        """Build the event, commit it to disk, and only then return it.

        Group commit: events emitted by other threads while a commit is under way are
        committed together by the next one, so several emitters share each fsync.
        """
        etype: str = kind.model_fields["type"].default.value
        with self._pending_lock:  # seq order == pending order == commit order
            event = kind(
                id=uuid7(),
                seq=self._next_seq,
                node_id=self.node_id,
                checkpoint_id=self.checkpoint_id,
                ward_id=self.ward_id,
                ts=self.clock(),
                **fields,
            )
            self._next_seq += 1
            self._pending.append(Stored(event.seq, etype, encode(event)))
        with self._lock:
            if self._written_through < event.seq:
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                if batch:
                    self._append(batch)
                    self._written_through = batch[-1].seq
        self.changed.set()
        return event

    def _append(self, batch: list[Stored]) -> None:
        """Commit ``batch``; never raises, so that the node keeps deciding locally."""
        for attempt in (1, 2):
            try:
                self._cap_pages()
                self._insert(batch, attempt)
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.rollback()
                flag = "disk_full" if _is_full(exc) else "outbox_error"
                self.flags.add(flag)
                if attempt == 1:
                    log.error("outbox: %s (%s); making room and retrying", flag, exc)
                    continue
                self.lost += len(batch)
                log.error(
                    "outbox: %s; %d events (seq %d-%d) could not be stored",
                    exc,
                    len(batch),
                    batch[0].seq,
                    batch[-1].seq,
                )
                return
            if attempt == 1:  # stored without making room: the condition has passed
                self.flags.difference_update(("disk_full", "outbox_error"))
            return

    def _insert(self, batch: list[Stored], attempt: int) -> None:
        size = sum(len(s.payload) for s in batch)
        need = self._bytes + size - self.max_bytes
        self._db.execute("BEGIN IMMEDIATE")
        freed, given_way, unsent = self._evict(need, (0, 1)) if need > 0 else (0, {}, 0)
        if attempt == 2:
            # Disk full: free a generous slice of telemetry so the next appends fit too;
            # stored passages and alarms stay (the new event is what is lost).
            more, telemetry, more_unsent = self._evict(max(self._bytes // 10, size) - freed, (0,))
            freed += more
            unsent += more_unsent
            for t, n in telemetry.items():
                given_way[t] = given_way.get(t, 0) + n
        self._db.executemany(
            "INSERT INTO events (seq, type, priority, drain, size, payload) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    s.seq,
                    s.type,
                    0 if s.type in TELEMETRY else 1,
                    drain_class(s.type),
                    len(s.payload),
                    s.payload,
                )
                for s in batch
            ],
        )
        if given_way:
            self._save_next_seq(batch[-1].seq + 1)
        for t, n in given_way.items():
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
                (f"dropped:{t}", n),
            )
        self._db.execute("COMMIT")
        # Only after the commit: the in-memory figures follow what is on disk.
        self._bytes += size - freed
        self._count += len(batch) - sum(given_way.values())
        self._unsent += len(batch) - unsent
        for t, n in given_way.items():
            self.dropped[t] = self.dropped.get(t, 0) + n
        if given_way:
            log.warning("outbox full: gave way %s", given_way)

    def _save_next_seq(self, value: int) -> None:
        """Record the counter in the transaction that deletes events. Appends need not:
        while the newest event is stored, the counter follows from it on opening."""
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('next_seq', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
            (value,),
        )

    def _evict(self, need: int, priorities: tuple[int, ...]) -> tuple[int, dict[str, int], int]:
        """Delete the oldest telemetry (priority 0), then the oldest of the rest, until
        ``need`` bytes are free, sent or not. Runs inside the caller's transaction.
        Returns the bytes freed, the events given way by type, and how many of them were
        still waiting to be sent."""
        freed = 0
        unsent = 0
        given_way: dict[str, int] = {}
        for priority in priorities:
            while freed < need:
                rows = self._db.execute(
                    "SELECT seq, type, size, sent_at FROM events WHERE priority = ? "
                    "ORDER BY seq LIMIT 256",
                    (priority,),
                ).fetchall()
                if not rows:
                    break
                victims = []
                for seq, t, size, sent_at in rows:
                    if freed >= need:
                        break
                    victims.append((seq,))
                    freed += size
                    unsent += sent_at is None
                    given_way[t] = given_way.get(t, 0) + 1
                self._db.executemany("DELETE FROM events WHERE seq = ?", victims)
        return freed, given_way, unsent

    # ---------------------------------------------------------------- the drain side

    def after(self, seq: int, limit: int) -> list[Stored]:
        """Up to ``limit`` held events (sent or not) with a sequence number above ``seq``,
        in sequence order: what the outbox holds, for inspection."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, type, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()
        return [Stored(s, t, bytes(p)) for s, t, p in rows]

    def _after_delivery_write(self) -> None:
        self._save_next_seq(self._written_through + 1)

    def reject(self, seq: int, reason: str) -> None:
        """The broker refused this event (PUBACK with a failure code): move it out of the
        way of the others, into ``rejected`` with the reason, where a technician finds it."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(
                    "INSERT OR REPLACE INTO rejected (seq, type, payload, reason) "
                    "SELECT seq, type, payload, ? FROM events WHERE seq = ?",
                    (reason, seq),
                )
                row = self._db.execute(
                    "DELETE FROM events WHERE seq = ? RETURNING size, sent_at", (seq,)
                ).fetchone()
                self._save_next_seq(self._written_through + 1)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.rollback()
                log.warning("outbox: could not set aside refused event %d: %s", seq, exc)
                return
            if row is not None:
                self._bytes -= row[0]
                self._count -= 1
                self._unsent -= row[1] is None
                self.rejected += 1
                self.flags.add("publish_refused")

    # ---------------------------------------------------------------- health figures

    @property
    def depth(self) -> int:
        """Events waiting to be sent to the broker: the node's backlog."""
        return self._unsent

    @property
    def held(self) -> int:
        """Every event kept: waiting, or sent and not yet confirmed by the hub."""
        return self._count

    @property
    def size_bytes(self) -> int:
        return self._bytes

    @property
    def dropped_total(self) -> int:
        """Given way, plus lost to a full disk in this run (which the full disk could not
        record), so that the health event counts every event the hub will never see."""
        return sum(self.dropped.values()) + self.lost

    @property
    def next_seq(self) -> int:
        return self._next_seq

    def close(self) -> None:
        with self._lock:
            self._db.close()
