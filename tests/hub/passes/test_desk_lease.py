"""Two pass desks on one PostgreSQL (two hub instances): one publishes the trust
documents, the other takes over when it goes, and a revocation made at either reaches
the nodes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from checkpoint.contract.models import Reason
from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.localstack.postgres import Postgres
from checkpoint.passes.model import Category
from edge.trust import TrustStore
from edge.trust.verifier import OfflineVerifier
from hub.passes.desk import PassDesk
from hub.passes.publisher import TrustPublisher
from hub.passes.settings import PassesSettings
from hub.state import open_store
from tests.helpers import wait_for
from tests.passes import mqtt
from tests.passes.factory import context


def test_one_desk_publishes_and_the_other_takes_over(
    postgres: Postgres, own_broker: Mosquitto, unique: str, tmp_path: Path, pass_key_credential: str
) -> None:
    url = postgres.create_database(f"desks_{unique}")
    engines = [open_store(url), open_store(url)]
    settings = PassesSettings(key_credential=pass_key_credential)
    first, second = (
        PassDesk(e, settings, directory=tmp_path / name, lease_check_s=0.2)
        for e, name in zip(engines, ("a", "b"), strict=True)
    )
    first.keys.create_key("k1")
    second.keys.create_anchor("a1")  # made at one instance, used by both
    record = second.issue(
        by="test",
        category=Category.RESIDENT,
        ward_id="phucla",
        valid_for=timedelta(days=1),
    )
    node = TrustStore(tmp_path / "node", anchors=first.keys.anchor_public_keys())
    verifier = OfflineVerifier(node)
    with (
        mqtt.client(own_broker.port, "hub-a") as client_a,
        mqtt.client(own_broker.port, "hub-b") as client_b,
        mqtt.client(own_broker.port, "phucla-cp07-n1", node.on_message),
    ):
        first.start(TrustPublisher(client_a))
        second.start(TrustPublisher(client_b))
        try:
            assert (first.publishing, second.publishing) == (True, False)
            wait_for(lambda: node.keys and node.revocations and node.policy, what="lists")
            assert verifier.check(record.text, context(datetime.now(UTC))).valid

            # Revoked at the instance that does not publish: the publisher sees the new
            # version in the store and sends the delta.
            second.revoke(record.pass_id)
            wait_for(
                lambda: (
                    verifier.check(record.text, context(datetime.now(UTC))).reason
                    is Reason.PASS_REVOKED
                ),
                timeout_s=10,
                what="the revocation at the node",
            )
            assert second.publishing is False

            assert node.keys is not None
            before = node.keys.issued_at
            first.stop()  # its lease goes with it
            wait_for(lambda: second.publishing, timeout_s=10, what="the other taking over")
            wait_for(
                lambda: node.keys is not None and node.keys.issued_at > before,
                timeout_s=10,
                what="fresh documents from the new publisher",
            )
            assert node.health().rejected == {}
        finally:
            first.stop()
            second.stop()
    for engine in engines:
        engine.dispose()
