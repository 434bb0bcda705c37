"""The revocation ledger in the shared state store: what every hub instance revokes, the
others see at once, and whichever instance publishes sends the same versions.

The versioning is that of the file ledger (``hub/passes/revocations.py``): each revocation
bumps ``version``; a snapshot marks a new base (and drops passes that expired anyway); a
delta is everything added since that base.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Column, Engine, Integer, String, Table, delete, insert, select

from checkpoint.passes.documents import Revocation, RevocationDelta, RevocationSnapshot
from hub.passes import versions
from hub.passes.revocations import RevocationLedger, new_revocation
from hub.state import metadata
from hub.state.types import UtcDateTime

pass_revocations = Table(
    "pass_revocations",
    metadata,
    Column("pass_id", String(32), primary_key=True),
    Column("revoked_at", UtcDateTime(), nullable=False),
    Column("pass_valid_until", UtcDateTime(), nullable=True),
    Column("added_version", Integer, nullable=False),
)


def _revocation(row: object) -> Revocation:
    m = row._mapping  # type: ignore[attr-defined]
    return Revocation(
        pass_id=m["pass_id"], revoked_at=m["revoked_at"], pass_valid_until=m["pass_valid_until"]
    )


# How stale this instance's memory of the revocations may be: a revocation made at another
# instance is seen by the ``revoked_pass_admitted`` rule within this; this instance's own
# at once. The rule asks for every passage that showed a pass, so it must not cost a query.
REFRESH_S = 0.5


class StoredLedger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._revoked: dict[str, datetime] = {}
        self._known_version = -1
        self._checked = -math.inf
        self._lock = threading.Lock()

    @property
    def version(self) -> int:
        with self.engine.connect() as conn:
            return versions.read(conn, versions.REVOCATIONS)

    def is_revoked(self, pass_id: str) -> bool:
        return self.revoked_at(pass_id) is not None

    def revoked_at(self, pass_id: str) -> datetime | None:
        """When ``pass_id`` was revoked, by any instance: from memory, which follows the
        store's revocation version (looked at every ``REFRESH_S``)."""
        with self._lock:
            if time.monotonic() - self._checked >= REFRESH_S:
                self._refresh()
            return self._revoked.get(pass_id)

    def _refresh(self) -> None:
        with self.engine.connect() as conn:
            version = versions.read(conn, versions.REVOCATIONS)
            if version != self._known_version:
                rows = conn.execute(
                    select(pass_revocations.c.pass_id, pass_revocations.c.revoked_at)
                )
                self._revoked = {r.pass_id: r.revoked_at for r in rows}
                self._known_version = version
        self._checked = time.monotonic()

    def revoke(
        self, pass_id: str, *, pass_valid_until: datetime | None = None, now: datetime | None = None
    ) -> Revocation:
        """Record a revocation (idempotent: revoking twice changes nothing)."""
        revocation = new_revocation(pass_id, pass_valid_until, now)
        with self.engine.begin() as conn:
            versions.lock(conn)
            row = conn.execute(
                select(pass_revocations).where(pass_revocations.c.pass_id == pass_id)
            ).first()
            if row is not None:
                return _revocation(row)
            added = versions.bump(conn, versions.REVOCATIONS)
            conn.execute(
                insert(pass_revocations).values(
                    pass_id=pass_id,
                    revoked_at=revocation.revoked_at,
                    pass_valid_until=pass_valid_until,
                    added_version=added,
                )
            )
        with self._lock:
            self._checked = -math.inf  # the rule sees this one at its next question
        return revocation

    def snapshot(self, now: datetime | None = None) -> RevocationSnapshot:
        """The full list, and from now on the base that deltas count from."""
        moment = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            versions.lock(conn)
            expired = conn.execute(
                delete(pass_revocations).where(pass_revocations.c.pass_valid_until <= moment)
            ).rowcount
            version = versions.read(conn, versions.REVOCATIONS)
            if expired:
                version = versions.bump(conn, versions.REVOCATIONS)  # nodes must re-base
            versions.write(conn, versions.REVOCATIONS_BASE, version)
            rows = conn.execute(select(pass_revocations).order_by(pass_revocations.c.added_version))
            kept = tuple(_revocation(r) for r in rows)
        return RevocationSnapshot(version=version, issued_at=moment, revoked=kept)

    def delta(self, now: datetime | None = None) -> RevocationDelta:
        with self.engine.begin() as conn:
            versions.lock(conn)  # a version and its entries from one moment
            version = versions.read(conn, versions.REVOCATIONS)
            base = versions.read(conn, versions.REVOCATIONS_BASE)
            rows = conn.execute(
                select(pass_revocations)
                .where(pass_revocations.c.added_version > base)
                .order_by(pass_revocations.c.added_version)
            )
            added = tuple(_revocation(r) for r in rows)
        return RevocationDelta(
            version=version, base_version=base, issued_at=now or datetime.now(UTC), added=added
        )

    def take_over(self, files: RevocationLedger) -> int:
        """Copy a file ledger into an empty store; returns how many were taken."""
        if self.version:
            return 0
        snapshot = files.snapshot()
        with self.engine.begin() as conn:
            versions.lock(conn)
            for i, entry in enumerate(snapshot.revoked, start=1):
                conn.execute(
                    insert(pass_revocations).values(
                        pass_id=entry.pass_id,
                        revoked_at=entry.revoked_at,
                        pass_valid_until=entry.pass_valid_until,
                        added_version=min(i, snapshot.version),
                    )
                )
            versions.write(conn, versions.REVOCATIONS, snapshot.version)
            versions.write(conn, versions.REVOCATIONS_BASE, snapshot.version)
        return len(snapshot.revoked)
