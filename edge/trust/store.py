"""The node's last good trust list, revocation list and zone policy, on disk.

Loaded at boot so a node that comes up with no network still verifies passes. The uplink
calls ``on_message(topic, payload)`` for every message under ``checkpoint/v1/trust/#``
(retained, so a reconnect delivers the newest of each). A document replaces the stored one
only when it is newer; each accepted change is on disk (atomic write) before it is used.
A message that cannot be used is counted by reason and kept under ``rejected/``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from checkpoint.atomic import write_atomic
from checkpoint.contract import decode_model, topics
from checkpoint.contract.node.trust import TrustConfig, VerifierSettings
from checkpoint.errors import ContractError
from checkpoint.passes import documents as docs
from checkpoint.passes.envelope import unwrap
from checkpoint.passes.state import TrustState

log = logging.getLogger(__name__)

D = TypeVar("D", bound=docs.Document)
MAX_KEPT_REJECTS = 50


class Outcome(StrEnum):
    APPLIED = "applied"
    REFRESHED = "refreshed"  # same version, newer issued_at: only the age changed
    IGNORED_OLD = "ignored_old"
    PENDING_SNAPSHOT = "pending_snapshot"  # a delta whose base this node does not hold
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class TrustHealth:
    keys_version: int | None
    revocation_version: int | None
    policy_version: int | None
    age_s: float | None
    stale: bool
    needs_snapshot: bool
    signed: bool  # trust documents are checked against anchor keys
    rejected: dict[str, int] = field(default_factory=dict)

    @property
    def flags(self) -> list[str]:
        """For the node's health event (``Health.flags``)."""
        out = ["trust_stale"] if self.stale else []
        out += ["revocations_gap"] if self.needs_snapshot else []
        return out + ([] if self.signed else ["trust_unchecked"])


_FILES = {
    docs.KEYS_DOC: "keys.json",
    docs.REVOCATIONS_DOC: "revocations.json",
    docs.POLICY_DOC: "policy.json",
}


class TrustStore:
    """Implements checkpoint.passes.state.TrustSource for the OfflineVerifier."""

    def __init__(
        self,
        directory: Path,
        settings: VerifierSettings | None = None,
        *,
        anchors: Mapping[str, str] | None = None,
    ) -> None:
        """``anchors``: key id -> public key of the hub keys that sign trust documents."""
        self.directory = directory
        self.settings = settings or VerifierSettings()
        self.anchors = dict(anchors) if anchors else None
        directory.mkdir(parents=True, exist_ok=True)
        self.rejected: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._pending: docs.RevocationDelta | None = None
        self.keys = self._load(docs.KEYS_DOC, docs.TrustList)
        self.revocations = self._load(docs.REVOCATIONS_DOC, docs.RevocationSnapshot)
        self.policy = self._load(docs.POLICY_DOC, docs.ZonePolicy)
        self._state = self._build()

    # ------------------------------------------------------------ disk

    def _load(self, name: str, model: type[D]) -> D | None:
        path = self.directory / _FILES[name]
        if not path.exists():
            return None
        try:
            return model.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as exc:
            # Keep the bad file for a technician and boot on what is left.
            log.error("stored %s is unusable, set aside: %s", path.name, exc)
            self.rejected["corrupt_file"] += 1
            path.replace(path.with_suffix(".bad"))
            return None

    def _save(self, name: str, document: BaseModel) -> None:
        write_atomic(self.directory / _FILES[name], document.model_dump_json().encode())

    def _keep_reject(self, reason: str, topic: str, payload: bytes) -> None:
        self.rejected[reason] += 1
        log.warning("trust message on %s rejected: %s", topic, reason)
        folder = self.directory / "rejected"
        try:
            folder.mkdir(exist_ok=True)
            kept = sorted(folder.iterdir())
            for old in kept[: max(0, len(kept) - MAX_KEPT_REJECTS + 1)]:
                old.unlink(missing_ok=True)  # bounded: a flood of junk must not fill the disk
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            (folder / f"{stamp}-{reason}.bin").write_bytes(payload[:65536])
        except OSError:
            log.exception("cannot keep the rejected trust message; it is counted only")

    # ------------------------------------------------------------ messages

    def on_message(self, topic: str, payload: bytes) -> Outcome:
        """Apply one retained trust message; never raises on bad input."""
        name = topics.trust_name(topic)
        if name is None or name not in docs.DOCUMENT_NAMES:
            self._keep_reject("unknown_topic", topic, payload)
            return Outcome.REJECTED
        try:
            with self._lock:
                outcome = self._apply(name, payload)
                if outcome in (Outcome.APPLIED, Outcome.REFRESHED):
                    self._state = self._build()
        except ContractError as exc:
            self._keep_reject(exc.reason, topic, payload)
            return Outcome.REJECTED
        except OSError:
            # Disk trouble: the old copy stays in force; the retained message comes again.
            log.exception("cannot store trust document %s", name)
            self.rejected["disk_error"] += 1
            return Outcome.REJECTED
        except Exception:  # paho's network thread must survive a bug in here
            log.exception("trust document %s could not be applied", name)
            self._keep_reject("internal_error", topic, payload)
            return Outcome.REJECTED
        log.info("trust document %s: %s", name, outcome.value)
        return outcome

    def _apply(self, name: str, payload: bytes) -> Outcome:
        payload = unwrap(name, payload, self.anchors)
        if name == docs.KEYS_DOC:
            self.keys, outcome = self._newest(name, self.keys, payload, docs.TrustList)
        elif name == docs.POLICY_DOC:
            self.policy, outcome = self._newest(name, self.policy, payload, docs.ZonePolicy)
        elif name == docs.REVOCATIONS_DOC:
            self.revocations, outcome = self._newest(
                name, self.revocations, payload, docs.RevocationSnapshot
            )
            if outcome is not Outcome.IGNORED_OLD:
                self._apply_pending()
        else:
            outcome = self._apply_delta(decode_model(docs.RevocationDelta, payload))
        return outcome

    def _newest(
        self, name: str, current: D | None, payload: bytes, model: type[D]
    ) -> tuple[D | None, Outcome]:
        """The document to keep (saved to disk if it is news) and what became of ``payload``."""
        new = decode_model(model, payload)
        outcome = _compare(current, new)
        if outcome is Outcome.IGNORED_OLD:
            return current, outcome
        self._save(name, new)
        return new, outcome

    def _apply_delta(self, delta: docs.RevocationDelta) -> Outcome:
        current = self.revocations
        if current is None or current.version < delta.base_version:
            self._pending = delta  # applied once the snapshot it builds on arrives
            return Outcome.PENDING_SNAPSHOT
        outcome = _compare(current, delta)
        if outcome is Outcome.IGNORED_OLD:
            return outcome
        have = {r.pass_id for r in current.revoked}
        merged = docs.RevocationSnapshot(
            version=max(current.version, delta.version),
            issued_at=max(current.issued_at, delta.issued_at),
            revoked=current.revoked + tuple(r for r in delta.added if r.pass_id not in have),
        )
        self._save(docs.REVOCATIONS_DOC, merged)
        self.revocations = merged
        self._pending = None
        return outcome

    def _apply_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            self._apply_delta(pending)

    # ------------------------------------------------------------ reads

    @classmethod
    def from_config(cls, config: TrustConfig, state_dir: Path) -> TrustStore:
        return cls(state_dir / config.directory, config, anchors=config.anchors or None)

    def _build(self) -> TrustState:
        return TrustState.of(self.keys, self.revocations, self.policy)

    def trust_state(self) -> TrustState:
        return self._state

    def health(self, now: datetime | None = None) -> TrustHealth:
        state = self._state
        age = state.age_s(now or datetime.now(UTC))
        return TrustHealth(
            keys_version=self.keys.version if self.keys else None,
            revocation_version=state.revocation_version,
            policy_version=self.policy.version if self.policy else None,
            age_s=age,
            stale=age is None or age > self.settings.max_age_s,
            needs_snapshot=self._pending is not None,
            signed=self.anchors is not None,
            rejected=dict(self.rejected),
        )


def _compare(current: docs.Document | None, new: docs.Document) -> Outcome:
    if current is None or new.version > current.version:
        return Outcome.APPLIED
    if new.version == current.version and new.issued_at > current.issued_at:
        return Outcome.REFRESHED
    return Outcome.IGNORED_OLD
