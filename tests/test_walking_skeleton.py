"""The walking skeleton: a simulated node's reading crosses the real broker and the hub
into the real InfluxDB, and comes back out through an InfluxQL query."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from checkpoint.contract import Event, Reading
from checkpoint.contract.models import Decision, EventBase
from checkpoint.settings.mqtt import MqttSettings
from edge.events import MemoryEmitter
from edge.sim.ward import SimNode, SimWard, node_config
from hub.config import HubConfig, InfluxSettings
from hub.influx.v1 import InfluxV1
from hub.ingest.consumer import Ingest
from tests.helpers import wait_for
from tests.node_publisher import Publisher


@pytest.fixture
def hub(mqtt_settings: MqttSettings, influx: InfluxV1, unique: str) -> Iterator[Ingest]:
    cfg = HubConfig(
        client_id=f"hub-{unique}",
        mqtt=mqtt_settings,
        influx=InfluxSettings(url=influx.url, database=influx.database),
    )
    ingest = Ingest(cfg, influx)
    ingest.start()
    yield ingest
    ingest.stop()


def test_reading_reaches_influxdb(
    hub: Ingest, influx: InfluxV1, mqtt_settings: MqttSettings, unique: str
) -> None:
    made: list[EventBase] = []
    # The node's real path: events into its durable outbox, out through its MQTT link.
    ward = SimWard(unique, 1, mqtt_settings, on_event=made.append, health_interval_s=None)
    ward.connect()
    node = ward.nodes[0]
    try:
        passage = node.person_arrives(36.8, node.resident_pass())
    finally:
        ward.close()

    assert passage is not None
    assert passage.decision == Decision.ADMIT
    [event] = [e for e in made if isinstance(e, Reading)]
    rows = wait_for(
        lambda: influx.query(
            'SELECT "object_c", "event_id", "checkpoint" FROM "reading" WHERE "node" = $node',
            {"node": node.config.node_id},
        ),
        what="the reading in InfluxDB",
    )
    assert len(rows) == 1
    assert rows[0]["event_id"] == event.id
    assert rows[0]["object_c"] == pytest.approx(36.8, abs=0.2)
    assert rows[0]["checkpoint"] == node.config.checkpoint_id
    stored = wait_for(
        lambda: influx.query(
            'SELECT "event_id" FROM "passage" WHERE "node" = $node', {"node": node.config.node_id}
        ),
        what="the passage in InfluxDB",
    )
    assert [r["event_id"] for r in stored] == [passage.id]


def test_a_redelivered_event_is_the_same_point(
    hub: Ingest, influx: InfluxV1, mqtt_settings: MqttSettings, unique: str
) -> None:
    cfg = node_config(unique, 2, mqtt_settings)
    publisher = Publisher(cfg.node_id, mqtt_settings)
    publisher.connect()
    memory = MemoryEmitter(cfg.node_id, cfg.checkpoint_id, cfg.ward_id)
    node = SimNode(cfg, memory)
    node.person_arrives(36.4, node.resident_pass())
    node.person_arrives(36.5, node.resident_pass())
    node.close()
    events: list[Event] = list(memory.events)
    readings = [e for e in events if isinstance(e, Reading)]
    deliveries = [*events, readings[0], readings[1], readings[0]]  # redeliveries
    try:
        for event in deliveries:
            publisher.publish(event)
    finally:
        publisher.close()
    # Stored counts distinct events; the three redeliveries are counted as duplicates.
    wait_for(
        lambda: hub.stats["stored"] >= len(events) and hub.stats["duplicates"] >= 3,
        what="all deliveries processed",
    )
    assert hub.stats["stored"] == len(events)
    rows = influx.query(
        'SELECT "event_id" FROM "reading" WHERE "node" = $node', {"node": cfg.node_id}
    )
    assert sorted(r["event_id"] for r in rows) == sorted(e.id for e in readings)
