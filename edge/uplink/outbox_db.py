"""The outbox's SQLite file: its schema, and opening it whatever state a crash left.

WAL mode with ``synchronous=FULL``: a committed transaction survives kill -9 and power
loss, and a transaction cut short by either is rolled back on the next open. A file that
is not a database any more (a torn SD card block) is moved aside for forensics and a new
one started, so that the node starts rather than never starting again.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq      INTEGER PRIMARY KEY,
    type     TEXT NOT NULL,
    priority INTEGER NOT NULL,
    size     INTEGER NOT NULL,
    payload  BLOB NOT NULL,
    drain    INTEGER NOT NULL DEFAULT 0,
    sent_at  REAL
);
CREATE INDEX IF NOT EXISTS events_by_priority ON events (priority, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rejected (
    seq      INTEGER PRIMARY KEY,
    type     TEXT NOT NULL,
    payload  BLOB NOT NULL,
    reason   TEXT NOT NULL,
    at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
"""

# Columns added since the first release; an older file gets them on opening. ``drain``:
# the drain's order class (readings last); ``sent_at``: when the broker acknowledged the
# event (monotonic seconds of this run), NULL while it waits to be sent.
_ADDED_COLUMNS = {
    "drain": "ALTER TABLE events ADD COLUMN drain INTEGER NOT NULL DEFAULT 0",
    "sent_at": "ALTER TABLE events ADD COLUMN sent_at REAL",
}
_DUE_INDEX = "CREATE INDEX IF NOT EXISTS events_due ON events (drain, seq) WHERE sent_at IS NULL"


def _migrate(db: sqlite3.Connection) -> None:
    have = {row[1] for row in db.execute("PRAGMA table_info(events)")}
    for column, statement in _ADDED_COLUMNS.items():
        if column not in have:
            db.execute(statement)
            if column == "drain":
                db.execute("UPDATE events SET drain = 1 WHERE type = 'reading'")
    db.execute(_DUE_INDEX)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        # A page cache of 512 KiB, not SQLite's 2 MB: appends touch the end of the table,
        # the drain reads each event once or twice, and the kernel's page cache keeps
        # what is read again. The node shares a Pi Zero's 512 MB with everything else.
        db.execute("PRAGMA cache_size=-512")
        db.executescript(SCHEMA)
        _migrate(db)
        (check,) = db.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {check}")
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def open_outbox_db(path: Path) -> tuple[sqlite3.Connection, bool]:
    """The open database, and whether an unreadable file had to be replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _connect(path), False
    except sqlite3.DatabaseError as exc:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        log.error("outbox %s is unreadable (%s); moved to %s", path, exc, aside)
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{path}{suffix}")
            if src.exists():
                shutil.move(src, f"{aside}{suffix}")
        db = _connect(path)
        # The sequence counter went with the old file: restart it above anything the
        # old one can have handed out (microseconds since 1970), so seq never repeats.
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('next_seq', ?)", (time.time_ns() // 1000,)
        )
        return db, True
