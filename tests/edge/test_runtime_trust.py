"""The node runtime end to end with the hub's trust data over a real broker: keys, policy
and levels arrive as retained messages, decisions use them, and a node that restarts with
the broker gone still decides with what it stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from checkpoint.contract import encode
from checkpoint.contract.levels import ZoneLevels, levels_topic
from checkpoint.contract.models import Decision, Reason
from checkpoint.contract.node.config import NodeConfig, ScannerConfig
from checkpoint.contract.node.uplink import UplinkSettings
from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.passes.model import Category
from checkpoint.passes.policy import default_policy
from checkpoint.settings.mqtt import MqttSettings
from hub.passes.issuer import PassIssuer
from hub.passes.keystore import KeyStore
from hub.passes.publisher import TrustPublisher
from hub.passes.revocations import RevocationLedger
from tests.edge.runtime import Runtime
from tests.helpers import wait_for
from tests.passes import mqtt

NOW = datetime.now(UTC)


def test_trust_and_levels_from_the_broker_decide_passages(
    own_broker: Mosquitto, tmp_path: Path
) -> None:
    keys = KeyStore(tmp_path / "keys")
    keys.create_key("hub-a", now=NOW - timedelta(days=1))
    issuer = PassIssuer(keys, RevocationLedger(tmp_path / "revoked.json"))
    start = NOW - timedelta(hours=1)
    resident = issuer.issue(category=Category.RESIDENT, ward_id="phucla", valid_from=start)
    rider = issuer.issue(category=Category.DELIVERY, ward_id="phucla", valid_from=start)
    with mqtt.publisher(own_broker.port, "hub") as client:
        hub = TrustPublisher(client)
        hub.publish_keys(keys, NOW)
        hub.publish_snapshot(issuer.ledger, NOW)
        hub.publish_policy(default_policy(1, NOW))

    config = NodeConfig(
        node_id="phucla-cp07-n1",
        checkpoint_id="phucla-cp07",
        ward_id="phucla",
        zone_id="phucla-z3",
        mqtt=MqttSettings(host=own_broker.host, port=own_broker.port),
        scanner=ScannerConfig(pass_timeout_s=3.0),
        uplink=UplinkSettings.model_validate({"outbox": {"path": str(tmp_path / "outbox.db")}}),
    )
    node = Runtime(config)
    try:
        wait_for(lambda: node.service.trust.health().policy_version == 1, what="trust lists")
        first = node.sim.person_arrives(36.4, rider.text)
        assert first is not None
        assert (first.decision, first.reason) == (Decision.ADMIT, Reason.OK)
        assert node.service.emit_health().levels_version is None  # no levels document yet

        # Command staff raise the zone to red: delivery riders no longer come in.
        levels = ZoneLevels(ward_id="phucla", version=1, issued_at=NOW, levels={"phucla-z3": "red"})
        with mqtt.client(own_broker.port, "hub2") as client:
            client.publish(
                levels_topic("phucla"), encode(levels), qos=1, retain=True
            ).wait_for_publish(5)
        wait_for(lambda: node.sim.config.zone_level == "red", what="the node at level red")
        # Its health tells the hub which levels document it applies (the console shows it).
        assert node.service.emit_health().levels_version == 1
        refused = node.sim.person_arrives(36.4, rider.text)
        assert refused is not None
        assert (refused.decision, refused.reason, refused.zone_level) == (
            Decision.REFUSE,
            Reason.LEVEL_NOT_ALLOWED,
            "red",
        )
        home = node.sim.person_arrives(36.4, resident.text)
        assert home is not None
        assert home.decision is Decision.ADMIT
    finally:
        node.stop()

    # Power cut, and the broker is gone when the node comes back: it keeps its lists and level.
    own_broker.stop()
    again = Runtime.rebooted(config)
    try:
        assert again.sim.config.zone_level == "red"
        offline = again.sim.person_arrives(36.4, rider.text)
        assert offline is not None
        assert (offline.decision, offline.reason) == (Decision.REFUSE, Reason.LEVEL_NOT_ALLOWED)
        health = again.service.emit_health()
        assert "trust_unchecked" in health.flags  # no anchor keys configured in this test
        assert health.levels_version == 1
    finally:
        again.stop()
