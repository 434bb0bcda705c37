"""The manual override end to end: a node runtime on simulated hardware (MockFactory key
switch and barrier switches) over the session's Mosquitto to a running hub (InfluxDB,
alert rules). An operator's override opens the barrier and is stored with the operator and
the reason, raising no forced-open alert; a lift without override raises it; too many
overrides raise their own alert."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from checkpoint.contract import encode, topics
from checkpoint.contract.models import Decision, OverrideReason, Passage, Reason
from checkpoint.contract.node.config import (
    AntiPassbackConfig,
    BarrierConfig,
    HealthConfig,
    NodeConfig,
    OverrideConfig,
    PinsConfig,
    ScannerConfig,
    SignalConfig,
)
from checkpoint.contract.node.uplink import UplinkSettings
from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.passes.model import Category
from checkpoint.passes.wardpolicy import WardPolicy, compose
from checkpoint.settings.mqtt import MqttSettings
from edge.events import MemoryEmitter
from edge.passage.override import card_text
from edge.sim.node import SimNode
from edge.trust.store import TrustStore
from hub.alerts.model import Alert
from hub.alerts.store import AlertStore
from hub.config import HubConfig
from hub.influx.v1 import InfluxV1
from hub.passes.issuer import IssuedPass, PassIssuer
from hub.passes.keystore import KeyStore
from hub.passes.publisher import TrustPublisher
from hub.passes.revocations import RevocationLedger
from hub.rules.config import RulesConfig, Thresholds
from hub.service import HubService
from tests.edge.runtime import Runtime
from tests.edge.simnodes import states
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher

NOW = datetime.now(UTC)
# What one passage says about the person, to replay it at another checkpoint.
PASSAGE_PARTS = {
    "direction",
    "decision",
    "reason",
    "zone_level",
    "temperature",
    "pass_check",
    "barrier",
    "duration_ms",
    "zone_id",
}


def active(store: AlertStore, kind: str) -> list[Alert]:
    return [a for a in store.find(active=True) if a.kind == kind]


class IntoStore:
    """The hub's trust publisher writing straight into the node's trust store: the
    session broker is shared, and trust topics are global and retained."""

    def __init__(self, store: TrustStore) -> None:
        self.store = store

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self.store.on_message(topic, payload)


@dataclass
class Post:
    """A checkpoint lane run by the node runtime, its hub, and the passes shown there."""

    node: Runtime
    hub: HubService
    store: AlertStore
    config: NodeConfig
    badge: IssuedPass
    resident: IssuedPass

    @property
    def sim(self) -> SimNode:
        return self.node.sim


def on_shift_now() -> WardPolicy:
    """One planned shift around the present local time, whenever the test runs."""
    local = NOW.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    hours = f"{(local - timedelta(hours=1)):%H:%M}-{(local + timedelta(hours=1)):%H:%M}"
    return WardPolicy.model_validate({"shifts": [{"name": "ca2", "hours": hours}]})


@pytest.fixture
def post(
    hub_config: HubConfig, own_broker: Mosquitto, unique: str, tmp_path: Path
) -> Iterator[Post]:
    # A broker of the test's own: the node subscribes to the retained trust topics, which
    # other tests leave on the session broker with keys this test's passes do not know.
    mqtt_settings = MqttSettings(host=own_broker.host, port=own_broker.port)
    keys = KeyStore(tmp_path / "keys")
    keys.create_key("hub-a", now=NOW - timedelta(days=1))
    issuer = PassIssuer(keys, RevocationLedger(tmp_path / "revoked.json"))
    start = NOW - timedelta(hours=1)
    badge = issuer.issue(category=Category.OPERATOR, ward_id="phucla", valid_from=start)
    resident = issuer.issue(category=Category.RESIDENT, ward_id="phucla", valid_from=start)
    config = NodeConfig(
        node_id=f"{unique}-cp01-n1",
        checkpoint_id=f"{unique}-cp01",
        ward_id="phucla",
        mqtt=mqtt_settings,
        pins=PinsConfig(override_key=26, presence_out=27),
        # The same badge scanned for each override: no de-duplication window.
        scanner=ScannerConfig(pass_timeout_s=1.0, dedup_window_s=0.0),
        barrier=BarrierConfig(open_s=0.1),
        signals=SignalConfig(refuse_show_s=0.1, beep_s=0.02, long_beep_s=0.05, gap_s=0.02),
        override=OverrideConfig(badge_timeout_s=2.0, reason_timeout_s=0.5),
        health=HealthConfig(interval_s=3600),  # reports when the test asks for one
        zone_id="phucla-to07",
        anti_passback=AntiPassbackConfig(enabled=True),
        uplink=UplinkSettings.model_validate({"outbox": {"path": str(tmp_path / "outbox.db")}}),
    )
    trust = TrustStore.from_config(config.trust, tmp_path)
    lists = TrustPublisher(IntoStore(trust))
    lists.publish_keys(keys, NOW)
    lists.publish_snapshot(issuer.ledger, NOW)
    lists.publish_policy(compose({"phucla": on_shift_now()}, 2, NOW))

    # No grace around overrides at the hub: the lift below comes seconds after one, and it
    # is the node that must tell the two apart.
    rules = RulesConfig(defaults=Thresholds(override_rate_min=3, override_grace_s=0))
    hub = HubService(hub_config.model_copy(update={"rules": rules, "mqtt": mqtt_settings}))
    hub.start()
    node = Runtime(config)
    try:
        assert hub.alerting is not None
        wait_for(lambda: node.sims, what="the node")
        yield Post(node, hub, hub.alerting.store, config, badge, resident)
    finally:
        node.stop()
        hub.stop()


def test_override_is_stored_with_operator_and_reason_and_only_a_bare_lift_alarms(
    post: Post, influx: InfluxV1
) -> None:
    sim, store, config, badge, resident = (
        post.sim,
        post.store,
        post.config,
        post.badge,
        post.resident,
    )

    opened = sim.override(badge.text, card_text(OverrideReason.MEDICAL))
    assert opened is not None
    assert (opened.decision, opened.reason) == (Decision.OVERRIDE, Reason.OVERRIDE)
    assert opened.override is not None
    assert (opened.override.operator, opened.override.reason) == (
        badge.pass_.pass_id,
        OverrideReason.MEDICAL,
    )
    assert opened.barrier is not None
    assert (opened.barrier.opened, opened.barrier.closed) == (True, True)

    # A resident pass is no operator badge: the barrier stays shut.
    refused = sim.override(resident.text)
    assert refused is not None
    assert (refused.decision, refused.reason, refused.barrier) == (
        Decision.REFUSE,
        Reason.NOT_AN_OPERATOR,
        None,
    )

    stored = wait_for(
        lambda: influx.query(
            'SELECT "override_reason", "override_operator" FROM "passage" '
            "WHERE \"decision\" = 'override'"
        ),
        timeout_s=20,
        what="the override stored",
    )
    assert [(r["override_reason"], r["override_operator"]) for r in stored] == [
        ("medical", badge.pass_.pass_id)
    ]
    # The refusal after the override is stored too: the hub has seen the override.
    wait_for(
        lambda: len(influx.query('SELECT "duration_ms" FROM "passage"')) == 2,
        timeout_s=20,
        what="both passages stored",
    )
    assert not active(store, "barrier_forced_open")

    # The operator, key turned, lifts the arm by hand (power cut): no forced opening.
    key = sim.factory.pin(26)
    key.drive_high()
    sim.arm.force_open()
    sim.arm.push_down()
    key.drive_low()
    sim.node.idle(timeout_s=10.0)  # the key also started an override: no badge came

    # Someone lifts the arm with no override: that is still a forced opening.
    sim.arm.force_open()
    alerts = wait_for(
        lambda: active(store, "barrier_forced_open"),
        timeout_s=20,
        what="the forced-open alert",
    )
    assert [a.node_id for a in alerts] == [config.node_id]
    sim.arm.push_down()
    assert alerts[0].count == 1
    resolved = [a for a in store.find(active=False) if a.kind == "barrier_forced_open"]
    assert resolved == []  # the lift under the key raised none that later cleared

    # Two more overrides: three within the window is above this checkpoint's usual.
    for _ in range(2):
        again = sim.override(badge.text)
        assert again is not None
        assert again.override is not None
        assert again.override.reason is OverrideReason.OTHER  # no reason card scanned
    rate = wait_for(
        lambda: active(store, "override_rate"),
        timeout_s=20,
        what="the override-rate alert",
    )
    assert rate[0].checkpoint_id == config.checkpoint_id


def test_a_post_without_an_operator_in_its_shift_alarms_until_one_signs_in(post: Post) -> None:
    sim, store, badge = post.sim, post.store, post.badge
    post.node.service.emit_health()  # in shift ca2, nobody signed in
    raised = wait_for(lambda: active(store, "checkpoint_unmanned"), timeout_s=20, what="alert")
    assert [(a.node_id, a.details["shift"]) for a in raised] == [(post.config.node_id, "ca2")]

    # The operator shows their badge at the post: signed in, and no barrier for it.
    sim.person_arrives(36.4, badge.text)
    assert sim.on_duty() == (badge.pass_.pass_id, "ca2")
    assert states(sim, sim.config.pins.barrier_relay) == [False]
    passage = sim.person_arrives(36.4, post.resident.text)
    assert passage is not None
    assert (passage.decision, passage.operator, passage.shift) == (
        Decision.ADMIT,
        badge.pass_.pass_id,
        "ca2",
    )
    post.node.service.emit_health()
    wait_for(lambda: not active(store, "checkpoint_unmanned"), timeout_s=20, what="cleared")

    sim.person_arrives(36.4, badge.text)  # the same badge again: signed out
    assert sim.on_duty() == (None, "ca2")
    post.node.service.emit_health()
    wait_for(lambda: active(store, "checkpoint_unmanned"), timeout_s=20, what="raised again")


def test_anti_passback_refuses_a_second_in_at_the_node_and_alarms_across_the_zone(
    post: Post, influx: InfluxV1, unique: str
) -> None:
    sim, resident = post.sim, post.resident.text
    first = sim.person_arrives(36.4, resident)
    assert first is not None
    assert (first.decision, first.zone_id) == (Decision.ADMIT, "phucla-to07")
    # The pass handed back over the fence and shown again: refused, the barrier stays shut.
    again = sim.person_arrives(36.4, resident)
    assert again is not None
    assert (again.decision, again.reason, again.barrier) == (
        Decision.REFUSE,
        Reason.PASSBACK,
        None,
    )
    out = sim.person_arrives(36.4, resident, direction="out")
    back = sim.person_arrives(36.4, resident)
    assert out is not None
    assert back is not None
    assert (out.decision, back.decision) == (Decision.ADMIT, Decision.ADMIT)
    wait_for(
        lambda: len(influx.query('SELECT "duration_ms" FROM "passage"')) == 4,
        timeout_s=20,
        what="the node's four passages at the hub",
    )
    assert not active(post.store, "passback")  # the node kept it to itself

    # The same pass comes in at another checkpoint of the zone: only the hub can see it.
    other = MemoryEmitter(f"{unique}-cp02-n1", f"{unique}-cp02", "phucla")
    elsewhere = other.emit(Passage, **back.model_dump(include=PASSAGE_PARTS))
    raw_publisher = RawPublisher(post.config.mqtt, f"pub-{unique}")  # the post's own broker
    try:
        raw_publisher.publish(
            [(topics.event_topic(elsewhere.node_id, "passage"), encode(elsewhere))]
        )
    finally:
        raw_publisher.close()
    raised = wait_for(lambda: active(post.store, "passback"), timeout_s=20, what="passback")
    assert [(a.checkpoint_id, a.details["first_checkpoint"]) for a in raised] == [
        (f"{unique}-cp02", post.config.checkpoint_id)
    ]
