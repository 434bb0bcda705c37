"""What the issuer and the trust publisher need from keys and a revocation ledger: the
files of ``checkpoint passes`` (keystore.py, revocations.py) and the hub's shared state
store (stored_keys.py, stored_ledger.py) both provide it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from checkpoint.passes.documents import Revocation, RevocationDelta, RevocationSnapshot, TrustList


class SigningKeys(Protocol):
    @property
    def active_key_id(self) -> str: ...

    def signing_key(self, key_id: str | None = None) -> Ed25519PrivateKey: ...

    def trust_list(self, now: datetime | None = None) -> TrustList: ...


class Ledger(Protocol):
    def revoke(
        self, pass_id: str, *, pass_valid_until: datetime | None = None, now: datetime | None = None
    ) -> Revocation: ...

    def snapshot(self, now: datetime | None = None) -> RevocationSnapshot: ...

    def delta(self, now: datetime | None = None) -> RevocationDelta: ...
