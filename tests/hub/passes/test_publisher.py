"""The hub's retained trust documents: a late node catches up, a refresh makes lists fresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from checkpoint.contract.models import Reason
from checkpoint.contract.node.trust import VerifierSettings
from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.passes.model import Category
from checkpoint.passes.policy import default_policy
from edge.trust import TrustStore
from edge.trust.verifier import OfflineVerifier
from hub.passes.issuer import PassIssuer
from hub.passes.keystore import KeyStore
from hub.passes.publisher import TrustPublisher
from hub.passes.revocations import RevocationLedger
from tests.helpers import wait_for
from tests.passes import mqtt
from tests.passes.factory import context


@pytest.fixture
def issuer(tmp_path: Path) -> PassIssuer:
    keys = KeyStore(tmp_path / "keys")
    keys.create_key("hub-a")
    keys.create_anchor("anchor-a")
    return PassIssuer(keys, RevocationLedger(tmp_path / "revoked.json"))


def test_a_late_node_catches_up_from_snapshot_and_delta(
    own_broker: Mosquitto, issuer: PassIssuer, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    start = now - timedelta(hours=1)
    passes = [
        issuer.issue(category=Category.RESIDENT, ward_id="phucla", valid_from=start)
        for _ in range(3)
    ]
    with mqtt.publisher(own_broker.port, "hub") as client:
        hub = TrustPublisher(client, signer=issuer.keys.anchor_signer())
        hub.publish_keys(issuer.keys)
        issuer.revoke(passes[0].pass_)
        hub.publish_delta(issuer.ledger)
        snapshot = hub.publish_snapshot(issuer.ledger)  # folds revocation 1 in
        issuer.revoke(passes[1].pass_)
        delta = hub.publish_delta(issuer.ledger)
        assert (snapshot.version, delta.base_version, delta.version) == (1, 1, 2)

    # The hub is gone; the node connects afterwards and gets only what is retained.
    store = TrustStore(tmp_path / "node", anchors=issuer.keys.anchor_public_keys())
    with mqtt.client(own_broker.port, "late-node", store.on_message):
        wait_for(lambda: store.trust_state().revocation_version == 2, what="catch-up")
    verifier = OfflineVerifier(store)
    reasons = [verifier.check(p.text, context(now)).reason for p in passes]
    assert reasons == [Reason.PASS_REVOKED, Reason.PASS_REVOKED, Reason.OK]
    assert store.health().rejected == {}


def test_refresh_makes_stale_lists_fresh(
    own_broker: Mosquitto, issuer: PassIssuer, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    long_ago = now - timedelta(hours=3)
    settings = VerifierSettings(max_age_s=3600)
    resident = issuer.issue(category=Category.RESIDENT, ward_id="phucla", valid_from=long_ago)
    store = TrustStore(tmp_path / "node", settings, anchors=issuer.keys.anchor_public_keys())
    verifier = OfflineVerifier(store, settings)
    with (
        mqtt.publisher(own_broker.port, "hub") as client,
        mqtt.client(own_broker.port, "node", store.on_message),
    ):
        hub = TrustPublisher(client, signer=issuer.keys.anchor_signer())
        policy = default_policy(1, long_ago)
        hub.publish_keys(issuer.keys, long_ago)
        hub.publish_snapshot(issuer.ledger, long_ago)
        hub.publish_policy(policy)
        wait_for(lambda: store.keys and store.revocations and store.policy, what="lists")
        assert store.health().stale
        leaving = verifier.check(resident.text, context(now, direction="out"))
        assert leaving.reason is Reason.STALE_TRUST

        hub.refresh(issuer.keys, issuer.ledger, policy)
        wait_for(lambda: not store.health().stale, what="fresh lists")
    assert verifier.check(resident.text, context(now, direction="out")).valid
    assert store.trust_state().revocation_version == 0  # same versions, only younger
