"""The baseline every fault scenario is measured against: a simulated ward's real nodes
(outbox and link each) through the real broker and hub into InfluxDB, no fault at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.contract.models import EventBase
from checkpoint.settings.mqtt import MqttSettings
from edge.sim.ward import SimWard, run_for
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import fast_config
from tests.reliability.conftest import Ledger
from tests.reliability.ledger import account, fired_alert_kinds, stored_event_ids


@pytest.fixture
def hub(
    mqtt_settings: MqttSettings, influx: InfluxV1, unique: str, tmp_path: Path
) -> Iterator[HubService]:
    service = HubService(
        fast_config(mqtt_settings, influx.url, influx.database, f"hub-{unique}", tmp_path)
    )
    service.start()
    yield service
    service.stop()


@pytest.mark.parametrize(
    "seconds",
    [pytest.param(3.0, id="short"), pytest.param(120.0, id="long", marks=pytest.mark.slow)],
)
def test_steady_traffic_is_stored_exactly_once(
    hub: HubService,
    influx: InfluxV1,
    mqtt_settings: MqttSettings,
    unique: str,
    ledger: Ledger,
    seconds: float,
) -> None:
    emitted: list[EventBase] = []
    ward = SimWard(unique, 4, mqtt_settings, on_event=emitted.append, health_interval_s=1.0)
    ward.connect()
    try:
        # A fever at a known node, so the account can say the alert reached the view.
        feverish = ward.nodes[0]
        feverish.person_arrives(38.9, feverish.resident_pass())
        run_for(ward, seconds, people_per_s=20)
    finally:
        ward.close(drain_s=30)
    nodes = [n.config.node_id for n in ward.nodes]
    ids = [e.id for e in emitted]
    wait_for(
        lambda: len(set(stored_event_ids(influx, nodes=nodes))) >= len(ids),
        timeout_s=60,
        what="every emitted event stored",
    )
    wait_for(lambda: "fever" in fired_alert_kinds(influx, ward=unique), what="the fever alert")
    ledger.record(
        account(
            f"steady traffic ({seconds:.0f}s)",
            ids,
            stored_event_ids(influx, nodes=nodes),
            alerts_expected=["fever"],
            alerts_fired=fired_alert_kinds(influx, ward=unique),
        )
    )
