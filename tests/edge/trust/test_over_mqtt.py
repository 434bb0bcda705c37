"""A revocation issued at the hub reaches a running node over real Mosquitto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from checkpoint.contract.models import Reason
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


def test_revocation_reaches_a_running_node(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    try:
        keys = KeyStore(tmp_path / "hub-keys")
        keys.create_key("hub-a")
        keys.create_anchor("anchor-a")
        issuer = PassIssuer(keys, RevocationLedger(tmp_path / "hub-revoked.json"))
        now = datetime.now(UTC)
        issued = issuer.issue(
            category=Category.RESIDENT, ward_id="phucla", valid_from=now - timedelta(hours=1)
        )
        with mqtt.publisher(broker.port, "hub") as hub_client:
            hub = TrustPublisher(hub_client, signer=keys.anchor_signer())
            # Published before the node exists: retained, so the node gets them on subscribe.
            hub.publish_keys(keys)
            hub.publish_snapshot(issuer.ledger)
            hub.publish_policy(default_policy(1, now))

            store = TrustStore(tmp_path / "node-trust", anchors=keys.anchor_public_keys())
            with mqtt.client(broker.port, "phucla-cp07-n1", store.on_message):
                wait_for(lambda: store.keys and store.revocations and store.policy, what="lists")
                verifier = OfflineVerifier(store)
                before = verifier.check(issued.text, context(now))
                assert before.valid

                issuer.revoke(issued.pass_)
                delta = hub.publish_delta(issuer.ledger)
                wait_for(
                    lambda: store.trust_state().revocation_version == delta.version,
                    what="the revocation at the node",
                )
                after = verifier.check(issued.text, context(now))
                assert after.reason is Reason.PASS_REVOKED
                assert after.revocation_version == delta.version
                assert before.revocation_version is not None
                assert delta.version > before.revocation_version
                assert not after.valid

        anchors = keys.anchor_public_keys()
        assert store.health().rejected == {}
        # And the node keeps refusing after a reboot with the broker gone.
        broker.stop()
        rebooted = OfflineVerifier(TrustStore(tmp_path / "node-trust", anchors=anchors))
        assert rebooted.check(issued.text, context(now)).reason is Reason.PASS_REVOKED
    finally:
        broker.stop()
