"""Publishing the trust documents to every node: retained, QoS 1, confirmed by PUBACK.

    checkpoint/v1/trust/keys               TrustList           on every key change
    checkpoint/v1/trust/policy             ZonePolicy          on every level / rule change
    checkpoint/v1/trust/revocations        RevocationSnapshot  on demand and periodically
    checkpoint/v1/trust/revocations-delta  RevocationDelta     on every revocation

``refresh()`` republishes everything with a fresh ``issued_at`` and unchanged versions, so
that nodes see their lists are current (their age is what turns on the fallback policy).
"""

from __future__ import annotations

from datetime import UTC, datetime

from checkpoint.contract import topics
from checkpoint.passes import documents as docs
from hub.passes.protocols import Ledger, SigningKeys
from hub.publisher import Publisher, Signer, publish_document


class TrustPublisher:
    """Publishes through the hub's publisher; a document the broker did not confirm raises
    ``hub.publisher.PublishError`` and nodes still hold the previous one."""

    def __init__(self, publisher: Publisher, *, signer: Signer | None = None) -> None:
        """``signer``: the anchor key (``KeyStore.anchor_signer()``) that seals documents."""
        self.publisher = publisher
        self.signer = signer

    def publish(self, name: str, document: docs.Document) -> None:
        if name not in docs.DOCUMENT_NAMES:
            raise ValueError(f"{name!r} is not a trust document name")
        publish_document(self.publisher, topics.trust_topic(name), name, document, self.signer)

    def publish_keys(self, keys: SigningKeys, now: datetime | None = None) -> docs.TrustList:
        trust = keys.trust_list(now or datetime.now(UTC))
        self.publish(docs.KEYS_DOC, trust)
        return trust

    def publish_policy(self, policy: docs.ZonePolicy) -> None:
        self.publish(docs.POLICY_DOC, policy)

    def publish_snapshot(
        self, ledger: Ledger, now: datetime | None = None
    ) -> docs.RevocationSnapshot:
        """The full list (on demand); the delta topic restarts from it, empty."""
        moment = now or datetime.now(UTC)
        snapshot = ledger.snapshot(moment)
        self.publish(docs.REVOCATIONS_DOC, snapshot)
        # An old delta left retained would point at an older base; replace it.
        self.publish(docs.REVOCATIONS_DELTA_DOC, ledger.delta(moment))
        return snapshot

    def publish_delta(self, ledger: Ledger, now: datetime | None = None) -> docs.RevocationDelta:
        delta = ledger.delta(now or datetime.now(UTC))
        self.publish(docs.REVOCATIONS_DELTA_DOC, delta)
        return delta

    def refresh(
        self,
        keys: SigningKeys,
        ledger: Ledger,
        policy: docs.ZonePolicy,
        now: datetime | None = None,
    ) -> None:
        """Vouch again for unchanged lists: same versions, fresh ``issued_at``."""
        moment = now or datetime.now(UTC)
        self.publish_keys(keys, moment)
        self.publish_delta(ledger, moment)
        self.publish_policy(policy.model_copy(update={"issued_at": moment}))
