"""Who may do what among hub instances that share one PostgreSQL: advisory locks.

No clustering of our own: PostgreSQL's advisory locks are the only coordination.

- ``exclusive(engine, name)``: one instance at a time runs the block (a transaction-level
  lock, gone with the transaction, so a crash never leaves it held). Alert delivery takes
  it per target so that two hubs never publish the same queued change.
- ``Lease``: a session-level lock held on a connection of its own for as long as the
  instance lives (``pg_try_advisory_lock``). The server drops it with the connection: a
  hub killed with -9 loses its lease as soon as the kernel closes its socket, and a
  standby that keeps trying gets it within one ``check_s``.

On SQLite only one instance can use the store, and it always holds every lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (advisory locks are keyed by bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def shares_instances(engine: Engine) -> bool:
    """Whether other hub instances may use this store at the same time."""
    return engine.dialect.name == "postgresql"


def hold_in(conn: Connection, name: str) -> None:
    """Wait for ``name`` inside ``conn``'s transaction; released when it ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(name)})


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[None]:
    """Run the block while no other instance holds ``name`` (waits for it)."""
    if not shares_instances(engine):
        yield
        return
    with engine.connect() as conn, conn.begin():
        hold_in(conn, name)
        yield


class Lease:
    """A named role that one instance holds at a time, until it stops or dies."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._conn: Connection | None = None
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; True if this instance holds it now."""
        if self._held:
            return True
        if not shares_instances(self.engine):
            self._held = True
            return True
        try:
            conn = self.engine.connect()
            # Autocommit: a session lock outlives transactions, and an idle-in-transaction
            # connection would hold back vacuum for as long as the hub runs.
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            got = bool(
                conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(self.name)}
                ).scalar_one()
            )
        except DBAPIError:
            return False
        if not got:
            conn.close()
            return False
        self._conn, self._held = conn, True
        return True

    def still_held(self) -> bool:
        """Ask the server over the lease's connection; a dropped connection lost it."""
        if not self._held or self._conn is None:
            return self._held
        try:
            self._conn.execute(text("SELECT 1"))
        except DBAPIError:
            self._drop()
        return self._held

    def release(self) -> None:
        self._drop()

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            # Invalidate rather than close: the pool must not hand out a connection that
            # still holds the session lock; closing the socket releases it.
            self._conn.invalidate()
            self._conn.close()
            self._conn = None
