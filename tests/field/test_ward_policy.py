"""Ward policy end to end: the ward's rules and levels set through the hub API, signed,
over a real Mosquitto to a running node runtime, deciding passages; and offline after a
restart with the broker gone.

Zones nest as in Hoang Mai: phucla-khu1 holds phucla-to7, which holds phucla-to7-ngo2, the
zone the node's checkpoint guards. A level set on the outer zone applies inside it unless
the inner zone's level is stricter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from checkpoint.contract import encode
from checkpoint.contract.levels import ZoneLevels, levels_topic
from checkpoint.contract.models import Decision, Passage, Reason
from checkpoint.contract.node.config import (
    BarrierConfig,
    NodeConfig,
    ScannerConfig,
    SignalConfig,
)
from checkpoint.contract.node.trust import TrustConfig
from checkpoint.contract.node.uplink import UplinkSettings
from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.passes.model import Category
from checkpoint.settings.mqtt import MqttSettings
from hub.api.app import create_app
from hub.api.context import ApiContext
from hub.api.roles import Role
from hub.influx.schema import event_point
from hub.passes.desk import PassDesk
from hub.passes.publisher import TrustPublisher
from hub.passes.settings import PassesSettings
from hub.state import open_store
from tests.edge.runtime import Runtime
from tests.helpers import wait_for
from tests.hub.api.conftest import auth
from tests.passes import mqtt

NOW = datetime.now(UTC).replace(microsecond=0)
ZONES = {
    "phucla-khu1": {},
    "phucla-to7": {"parent": "phucla-khu1"},
    "phucla-to7-ngo2": {"parent": "phucla-to7"},
}


def closed_window() -> str:
    """Opening hours that exclude the present local time (whenever the test runs)."""
    local = NOW.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    start = (local + timedelta(hours=2)).strftime("%H:%M")
    end = (local + timedelta(hours=3)).strftime("%H:%M")
    return f"{start}-{end}"


@dataclass
class Hub:
    client: TestClient
    desk: PassDesk
    commander: str

    def put(self, path: str, body: object) -> dict[str, object]:
        resp = self.client.put(path, json=body, headers=auth(self.commander))
        assert resp.status_code == 200, resp.text
        out: dict[str, object] = resp.json()
        return out

    def pass_text(self, category: Category) -> str:
        record = self.desk.issue(
            by="test",
            category=category,
            ward_id="phucla",
            valid_for=timedelta(days=1),
            valid_from=NOW - timedelta(hours=1),
        )
        return record.text


@pytest.fixture
def hub(own_broker: Mosquitto, tmp_path: Path) -> Iterator[Hub]:
    engine = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
    ctx = ApiContext(engine)
    desk = PassDesk(engine, PassesSettings(), directory=tmp_path / "passes")
    desk.keys.create_key("hub-a", now=NOW - timedelta(days=1))
    desk.keys.create_anchor("anchor-a")
    ctx.passes = desk
    commander = ctx.keys.issue(Role.COMMANDER, "cmd", wards=["phucla"])[1]
    with mqtt.publisher(own_broker.port, "hub") as downlink:
        ctx.downlink = downlink
        desk.start(TrustPublisher(downlink))
        try:
            with TestClient(create_app(ctx)) as client:
                yield Hub(client, desk, commander)
        finally:
            desk.stop()


def node_config(broker: Mosquitto, tmp_path: Path, anchors: dict[str, str]) -> NodeConfig:
    return NodeConfig(
        node_id="phucla-cp07-n1",
        checkpoint_id="phucla-cp07",
        ward_id="phucla",
        zone_id="phucla-to7-ngo2",
        zone_level="green",
        mqtt=MqttSettings(host=broker.host, port=broker.port),
        scanner=ScannerConfig(pass_timeout_s=3.0),
        # Quick lights and barrier: the test is about decisions, not their timing.
        barrier=BarrierConfig(open_s=0.1),
        signals=SignalConfig(refuse_show_s=0.1, beep_s=0.02, long_beep_s=0.05, gap_s=0.02),
        trust=TrustConfig(anchors=anchors),
        uplink=UplinkSettings.model_validate({"outbox": {"path": str(tmp_path / "outbox.db")}}),
    )


def passage(node: Runtime, text: str) -> Passage:
    result = node.sim.person_arrives(36.4, text)
    assert result is not None
    return result


def test_outer_zone_level_and_ward_hours_reach_the_inner_zone_node_and_hold_offline(
    hub: Hub, own_broker: Mosquitto, tmp_path: Path
) -> None:
    resident, rider, ambulance = (
        hub.pass_text(c) for c in (Category.RESIDENT, Category.DELIVERY, Category.EMERGENCY)
    )
    # The ward's rules: its zones, and at level2 only residents and riders, in opening
    # hours that are closed now; emergency crews at any hour; no temperature screening.
    rules = {
        "zones": ZONES,
        "levels": {
            "level2": {
                "allow_in": ["resident", "delivery", "emergency"],
                "allow_out": ["resident", "delivery", "emergency"],
                "hours": [closed_window()],
                "hours_exempt": ["emergency"],
                "temperature_check": False,
            }
        },
    }
    policy_version = hub.put("/wards/phucla/policy", rules)["version"]
    config = node_config(own_broker, tmp_path, hub.desk.keys.anchor_public_keys())
    node = Runtime(config)
    try:
        wait_for(lambda: node.service.policy_version == policy_version, what="the ward's policy")
        assert passage(node, rider).decision is Decision.ADMIT  # green, from its config

        # The commander raises the outermost zone to red: the node two zones in follows.
        hub.put("/wards/phucla/levels/phucla-khu1", {"level": "red"})
        wait_for(lambda: node.sim.config.zone_level == "red", what="red at the inner zone")
        refused = passage(node, rider)
        assert (refused.decision, refused.reason, refused.zone_level) == (
            Decision.REFUSE,
            Reason.LEVEL_NOT_ALLOWED,
            "red",
        )
        home = passage(node, resident)
        assert home.decision is Decision.ADMIT
        assert home.temperature is not None  # red screens temperature

        # A laxer level on the inner zone does not undo the outer zone's red.
        hub.put("/wards/phucla/levels/phucla-to7-ngo2", {"level": "green"})
        wait_for(lambda: node.service.levels_version == 2, what="the second levels document")
        assert node.sim.config.zone_level == "red"

        # Outer zone to level2: the ward's own rule, whose opening hours are closed now.
        hub.put("/wards/phucla/levels/phucla-khu1", {"level": "level2"})
        wait_for(lambda: node.sim.config.zone_level == "level2", what="level2")
        late = passage(node, resident)
        assert (late.decision, late.reason) == (Decision.REFUSE, Reason.OUTSIDE_HOURS)
        crew = passage(node, ambulance)
        assert (crew.decision, crew.temperature) == (Decision.ADMIT, None)  # no screening

        # The hub learns which versions the node applied from its health report.
        health = node.service.emit_health()
        assert (health.levels_version, health.policy_version) == (3, policy_version)
        fields = event_point(health).fields
        assert (fields["levels_version"], fields["policy_version"]) == (3, policy_version)

        # An unsigned levels document (anyone who can write to the broker) is refused.
        forged = ZoneLevels(ward_id="phucla", version=99, issued_at=NOW, levels={})
        with mqtt.client(own_broker.port, "intruder") as intruder:
            intruder.publish(
                levels_topic("phucla"), encode(forged), qos=1, retain=True
            ).wait_for_publish(5)
        wait_for(lambda: node.service.trust.rejected["levels_unsigned"] >= 1, what="the forgery")
        assert node.service.levels_version == 3
    finally:
        node.stop()

    # Power cut, and the broker is gone when the node comes back: same level, same rules.
    own_broker.stop()
    again = Runtime.rebooted(config)
    try:
        assert again.sim.config.zone_level == "level2"
        offline = passage(again, resident)
        assert (offline.decision, offline.reason) == (Decision.REFUSE, Reason.OUTSIDE_HOURS)
        assert passage(again, ambulance).decision is Decision.ADMIT
    finally:
        again.stop()
