"""InfluxDB stops for a while: the hub stops acknowledging, the broker holds the backlog,
memory stays bounded by the receive maximum, and after the restart every event is stored
exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.localstack import InfluxDB1
from checkpoint.settings.mqtt import MqttSettings
from hub.config import BatchSettings
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher, event_message, fast_config, made_at, reading

RECEIVE_MAXIMUM = 20


@pytest.fixture
def own_influx(tmp_path: Path) -> Iterator[InfluxDB1]:
    server = InfluxDB1(tmp_path / "influxdb")
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    "outage",
    [
        pytest.param((200, 0.0), id="short"),
        pytest.param((20_000, 15.0), id="long", marks=pytest.mark.slow),
    ],
)
def test_influx_outage_loses_nothing_and_stores_each_event_once(
    own_influx: InfluxDB1,
    mqtt_settings: MqttSettings,
    raw_publisher: RawPublisher,
    unique: str,
    outage: tuple[int, float],
) -> None:
    during_count, down_s = outage  # events published while InfluxDB is down, seconds down
    cfg = fast_config(
        mqtt_settings,
        own_influx.url,
        "outage",
        f"hub-{unique}",
        own_influx.workdir.parent,  # this test's tmp_path
        batch=BatchSettings(
            max_points=10,
            max_interval_s=0.05,
            receive_maximum=RECEIVE_MAXIMUM,
            retry_initial_s=0.05,
            retry_max_s=0.3,
        ),
    )
    hub = HubService(cfg)
    hub.start()
    try:
        ingest = hub.ingest
        assert ingest is not None
        node_a, node_b = f"{unique}-cp01-n1", f"{unique}-cp02-n1"
        before = [reading(node_a, i) for i in range(30)]
        raw_publisher.publish([event_message(e) for e in before])
        wait_for(lambda: ingest.stats["stored"] == 30, what="events before the outage")

        own_influx.stop()
        during = [
            reading(node_a if i % 2 else node_b, 100 + i, ts=made_at(100 + i))
            for i in range(during_count)
        ]
        # The broker accepts them all (PUBACK to the publisher) although the hub cannot
        # store them: it holds what the hub has not acknowledged.
        raw_publisher.publish([event_message(e) for e in during])
        wait_for(lambda: ingest.stats["write_errors"] >= 3, what="failed writes")
        assert ingest.stats["stored"] == 30
        # The hub holds at most a receive-maximum of messages; the rest waits at the broker.
        assert ingest.stats["max_pending"] <= RECEIVE_MAXIMUM
        time.sleep(down_s)  # the long variant: an outage of a while, retries backing off

        own_influx.restart()
        # Redeliveries of events stored before the outage, as a node replaying its outbox.
        raw_publisher.publish([event_message(e) for e in before[:5]])
        total = len(before) + len(during)  # stored counts distinct events
        wait_for(
            lambda: ingest.stats["stored"] >= total and ingest.stats["duplicates"] >= 5,
            timeout_s=120,
            what="backlog stored",
        )
        assert (ingest.stats["stored"], ingest.stats["duplicates"]) == (total, 5)
        # ... also while the backlog drains after the restart.
        assert ingest.stats["max_pending"] <= RECEIVE_MAXIMUM
    finally:
        hub.stop()

    client = InfluxV1(own_influx.url, "outage")
    try:
        rows = client.query('SELECT "event_id", "seq" FROM "reading"')
    finally:
        client.close()
    assert len(rows) == len(before) + len(during)  # exactly once: none lost, none twice
    assert sorted(r["event_id"] for r in rows) == sorted(e.id for e in [*before, *during])
