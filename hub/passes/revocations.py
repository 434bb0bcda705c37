"""The hub's revocation ledger: every revoked pass, versioned, as snapshot and delta.

Each revocation bumps ``version``. ``snapshot()`` marks a new base (and drops entries whose
pass has expired anyway); ``delta()`` is everything added since that base. Both are
published retained, so a node that was offline catches up from the newest of each.
Kept in one JSON file written atomically; the hub's state store can take this over later.
The file also lists the passes ``checkpoint passes issue`` made with it (id and expiry, until
they expire), so that ``checkpoint passes revoke`` can refuse an id that was never issued.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from checkpoint.atomic import write_atomic
from checkpoint.passes.documents import Revocation, RevocationDelta, RevocationSnapshot
from checkpoint.passes.errors import BadPassRequest, KeyStoreError


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revocation: Revocation
    added_version: int


class _Ledger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 0
    base_version: int = 0
    entries: list[_Entry] = Field(default_factory=list)
    issued: dict[str, datetime] = Field(default_factory=dict)  # pass id -> valid until


def new_revocation(
    pass_id: str, pass_valid_until: datetime | None, now: datetime | None
) -> Revocation:
    """A validated revocation; BadPassRequest for a malformed pass id."""
    try:
        return Revocation(
            pass_id=pass_id, revoked_at=now or datetime.now(UTC), pass_valid_until=pass_valid_until
        )
    except ValidationError as exc:
        raise BadPassRequest.from_validation(exc) from None


class RevocationLedger:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._data = (
                _Ledger.model_validate_json(path.read_bytes()) if path.exists() else _Ledger()
            )
        except (OSError, ValidationError) as exc:
            raise KeyStoreError(f"cannot read revocations {path}: {exc}") from None
        # The hub's rules look a pass up for every admitted passage: no list scan.
        self._index = {e.revocation.pass_id: e.revocation.revoked_at for e in self._data.entries}

    @property
    def version(self) -> int:
        return self._data.version

    def _save(self) -> None:
        write_atomic(self.path, self._data.model_dump_json().encode(), mode=0o600)

    def is_revoked(self, pass_id: str) -> bool:
        return self.revoked_at(pass_id) is not None

    def revoked_at(self, pass_id: str) -> datetime | None:
        """When ``pass_id`` was revoked (for the hub's "admitted after revocation" rule)."""
        return self._index.get(pass_id)

    def record_issued(
        self, pass_id: str, valid_until: datetime, *, now: datetime | None = None
    ) -> None:
        """Remember a pass issued with this ledger (expired ones are forgotten)."""
        moment = now or datetime.now(UTC)
        kept = {k: v for k, v in self._data.issued.items() if v > moment}
        self._data.issued = {**kept, pass_id: valid_until}
        self._save()

    def was_issued(self, pass_id: str) -> bool:
        """Issued with this ledger (and not long expired), or already revoked here."""
        return pass_id in self._data.issued or pass_id in self._index

    def revoke(
        self, pass_id: str, *, pass_valid_until: datetime | None = None, now: datetime | None = None
    ) -> Revocation:
        """Record a revocation (idempotent: revoking twice changes nothing)."""
        for entry in self._data.entries:
            if entry.revocation.pass_id == pass_id:
                return entry.revocation
        revocation = new_revocation(pass_id, pass_valid_until, now)
        self._data.version += 1
        self._data.entries.append(_Entry(revocation=revocation, added_version=self._data.version))
        self._save()
        self._index[pass_id] = revocation.revoked_at
        return revocation

    def snapshot(self, now: datetime | None = None) -> RevocationSnapshot:
        """The full list, and from now on the base that deltas count from."""
        moment = now or datetime.now(UTC)
        kept = [
            e
            for e in self._data.entries
            if e.revocation.pass_valid_until is None or e.revocation.pass_valid_until > moment
        ]
        if len(kept) != len(self._data.entries):
            self._data.version += 1  # the list changed shape: nodes must take the snapshot
            self._data.entries = kept
            self._index = {e.revocation.pass_id: e.revocation.revoked_at for e in kept}
        self._data.base_version = self._data.version
        self._save()
        return RevocationSnapshot(
            version=self._data.version,
            issued_at=moment,
            revoked=tuple(e.revocation for e in kept),
        )

    def delta(self, now: datetime | None = None) -> RevocationDelta:
        base = self._data.base_version
        return RevocationDelta(
            version=self._data.version,
            base_version=base,
            issued_at=now or datetime.now(UTC),
            added=tuple(e.revocation for e in self._data.entries if e.added_version > base),
        )
