"""InfluxDB stopped while a ward's traffic continues, then started again.

The hub cannot store, so it does not acknowledge: it holds at most a receive maximum of
messages and the broker keeps the rest in the hub's session. The hub derives before it
stores, so a fever during the outage raises its alert while InfluxDB is still down (the
alert's own point reaches InfluxDB after the restart).
The test runs its own InfluxDB (the session one is shared) and the session broker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.localstack import InfluxDB1
from checkpoint.settings.mqtt import MqttSettings
from hub.alerts.config import AlertsConfig
from hub.config import BatchSettings
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import fast_config
from tests.reliability.conftest import Ledger
from tests.reliability.ledger import account, fired_alert_kinds, stored_event_ids
from tests.reliability.ward_traffic import WardTraffic, wait_all_stored

RECEIVE_MAXIMUM = 20
DATABASE = "outage"


@pytest.fixture
def own_influx(tmp_path: Path) -> Iterator[InfluxDB1]:
    server = InfluxDB1(tmp_path / "influxdb")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def reader(own_influx: InfluxDB1) -> Iterator[InfluxV1]:
    client = InfluxV1(own_influx.url, DATABASE)
    yield client
    client.close()


@pytest.mark.parametrize(
    "down_s",
    [
        pytest.param(3.0, id="short"),
        pytest.param(180.0, id="long", marks=[pytest.mark.slow, pytest.mark.timeout(600)]),
    ],
)
def test_influx_down_while_traffic_continues_stores_each_event_once(
    own_influx: InfluxDB1,
    reader: InfluxV1,
    mqtt_settings: MqttSettings,
    unique: str,
    tmp_path: Path,
    ledger: Ledger,
    down_s: float,
) -> None:
    hub = HubService(
        fast_config(
            mqtt_settings,
            own_influx.url,
            DATABASE,
            f"hub-{unique}",
            tmp_path / "hub",
            batch=BatchSettings(
                max_points=10,
                max_interval_s=0.05,
                receive_maximum=RECEIVE_MAXIMUM,
                retry_initial_s=0.05,
                retry_max_s=1.0,
            ),
            # The fever's alert is raised during the outage; its InfluxDB point (what
            # fired_alert_kinds reads) is retried with the delivery's own backoff, which
            # would otherwise have grown to minutes by the end of the long outage.
            alerts=AlertsConfig(retry_initial_s=0.5, retry_max_s=5.0),
        )
    )
    hub.start()
    traffic = WardTraffic(unique, 4, mqtt_settings)
    try:
        ingest = hub.ingest
        assert ingest is not None
        traffic.start()
        wait_for(lambda: ingest.stats["stored"] >= 20, timeout_s=60, what="traffic stored")

        own_influx.stop()
        stored_before = ingest.stats["stored"]
        traffic.fever()
        assert hub.alerting is not None
        store = hub.alerting.store
        wait_for(
            lambda: [a for a in store.find(ward_id=unique) if a.kind == "fever"],
            timeout_s=30,
            what="the fever alert, InfluxDB still down",
        )
        wait_for(lambda: ingest.stats["write_errors"] >= 3, timeout_s=60, what="failed writes")
        time.sleep(down_s)
        # Nothing was acknowledged as stored while InfluxDB was away (a batch in flight
        # when it stopped may have made it), and the backlog waited at the broker.
        assert ingest.stats["stored"] <= stored_before + RECEIVE_MAXIMUM
        assert ingest.stats["max_pending"] <= RECEIVE_MAXIMUM

        own_influx.restart()
        time.sleep(2.0)  # traffic goes on while the backlog drains
    finally:
        try:
            traffic.close()
            wait_all_stored(reader, traffic.ids, traffic.node_ids, timeout_s=180)
            wait_for(
                lambda: "fever" in fired_alert_kinds(reader, ward=unique),
                timeout_s=60,
                what="the fever alert",
            )
        finally:
            hub.stop()
    stats = dict(ingest.stats)
    # ... also while the backlog drained after the restart.
    assert stats["max_pending"] <= RECEIVE_MAXIMUM
    ledger.record(
        account(
            f"InfluxDB down {down_s:.0f}s",
            traffic.ids,
            stored_event_ids(reader, nodes=traffic.node_ids),
            alerts_expected=["fever"],
            alerts_fired=fired_alert_kinds(reader, ward=unique),
            undelivered=traffic.undelivered,
            write_errors=stats["write_errors"],
            max_pending=stats["max_pending"],
            receive_maximum=RECEIVE_MAXIMUM,
        )
    )
    # Reports held at the broker arrive late: that is the hub's delay, not the nodes'
    # clocks (before hub/rules/health.py knew this, long outages raised clock_skew).
    assert "clock_skew" not in fired_alert_kinds(reader, ward=unique)
