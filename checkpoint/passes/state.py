"""What a verifier trusts at one moment: keys, revoked pass ids, policy, and how old they are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from checkpoint.passes.documents import RevocationSnapshot, TrustList, ZonePolicy


@dataclass(frozen=True, slots=True)
class TrustState:
    keys: TrustList | None = None
    revoked: frozenset[str] = field(default_factory=frozenset)
    revocation_version: int | None = None
    revocations_issued_at: datetime | None = None
    policy: ZonePolicy | None = None

    @classmethod
    def of(
        cls,
        keys: TrustList | None,
        revocations: RevocationSnapshot | None,
        policy: ZonePolicy | None = None,
    ) -> TrustState:
        """A state from whole documents (the hub, tests, and a node's store)."""
        return cls(
            keys=keys,
            revoked=frozenset(r.pass_id for r in revocations.revoked)
            if revocations
            else frozenset(),
            revocation_version=revocations.version if revocations else None,
            revocations_issued_at=revocations.issued_at if revocations else None,
            policy=policy,
        )

    def age_s(self, now: datetime) -> float | None:
        """Age of the older of the two lists; None while either is missing."""
        if self.keys is None or self.revocations_issued_at is None:
            return None
        oldest = min(self.keys.issued_at, self.revocations_issued_at)
        return max(0.0, (now - oldest).total_seconds())


class TrustSource(Protocol):
    def trust_state(self) -> TrustState:
        """The current lists; called once per check, so it must be cheap."""
        ...


@dataclass(frozen=True, slots=True)
class FixedTrust:
    """A TrustSource that never changes (the hub's own checks, tests)."""

    state: TrustState

    def trust_state(self) -> TrustState:
        return self.state
