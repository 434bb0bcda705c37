"""The priority lane: a fever is stored and alerted while a backlog of readings still
waits at the broker, because passages come through a session of their own."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from checkpoint.contract import encode, topics
from checkpoint.settings.mqtt import MqttSettings
from edge.events import MemoryEmitter
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher, event_message, fast_config, reading
from tests.hub.traffic import passage

BACKLOG = 20_000


def test_a_fever_overtakes_a_backlog_of_readings(
    mqtt_settings: MqttSettings,
    influx: InfluxV1,
    raw_publisher: RawPublisher,
    unique: str,
    tmp_path: Path,
) -> None:
    config = fast_config(mqtt_settings, influx.url, influx.database, f"hub-{unique}", tmp_path)
    first = HubService(config)
    first.start()  # both lanes' persistent sessions now exist at the broker
    first.stop()

    # While the hub is away, the ward's nodes deliver a long backlog (an hour of readings,
    # dated as they were made); then a fever.
    start = datetime.now(UTC) - timedelta(hours=1)
    readings = [
        reading(f"{unique}-cp01-n{i % 8}", i, ward=unique, ts=start + timedelta(seconds=i / 6))
        for i in range(BACKLOG)
    ]
    raw_publisher.publish([event_message(r) for r in readings], timeout_s=120)
    em = MemoryEmitter(f"{unique}-cp02-n1", f"{unique}-cp02", unique)
    fever = passage(em, temp=(38.3, 38.6))
    raw_publisher.publish([(topics.event_topic(em.node_id, "passage"), encode(fever))])

    hub = HubService(config)
    hub.start()
    try:
        assert hub.alerting is not None
        assert hub.ingest is not None
        store = hub.alerting.store
        wait_for(
            lambda: [a for a in store.find(active=True) if a.kind == "fever"],
            timeout_s=60,
            what="the fever alert",
        )
        bulk, priority = hub.ingest.lanes
        assert bulk.stats["stored"] < BACKLOG  # the readings were still coming in
        # Derived before stored: the passage's point may follow its alert by a moment.
        wait_for(lambda: priority.stats["stored"] == 1, timeout_s=10, what="the passage stored")
        wait_for(lambda: bulk.stats["stored"] >= BACKLOG, timeout_s=180, what="the backlog")
    finally:
        hub.stop()
    rows = influx.query('SELECT "event_id" FROM "passage" WHERE "node" = $n', {"n": em.node_id})
    assert [r["event_id"] for r in rows] == [fever.id]  # stored once, by the priority lane
    [count] = influx.query('SELECT count("seq") AS n FROM "reading"')
    assert count["n"] == BACKLOG


def test_passages_queued_before_the_priority_lane_existed_are_not_lost(
    mqtt_settings: MqttSettings,
    influx: InfluxV1,
    raw_publisher: RawPublisher,
    unique: str,
    tmp_path: Path,
) -> None:
    """A hub upgraded to two lanes: its old session holds passages the new priority
    session never got. The bulk lane stores them rather than leave them to it."""
    config = fast_config(mqtt_settings, influx.url, influx.database, f"hub-{unique}", tmp_path)
    one_lane = config.model_copy(
        update={"ingest": config.ingest.model_copy(update={"priority_lane": False})}
    )
    old = HubService(one_lane)
    old.start()
    old.stop()
    em = MemoryEmitter(f"{unique}-cp03-n1", f"{unique}-cp03", unique)
    passages = [passage(em, pass_id=f"p-{i}") for i in range(20)]
    raw_publisher.publish(
        [(topics.event_topic(em.node_id, "passage"), encode(p)) for p in passages]
    )

    hub = HubService(config)
    hub.start()
    try:
        assert hub.ingest is not None
        ingest = hub.ingest
        wait_for(lambda: ingest.stats["stored"] >= len(passages), what="the old passages")
    finally:
        hub.stop()
    rows = influx.query('SELECT "event_id" FROM "passage" WHERE "node" = $n', {"n": em.node_id})
    assert sorted(r["event_id"] for r in rows) == sorted(p.id for p in passages)


def test_passages_both_lanes_bring_are_stored_counted_and_derived_once(
    mqtt_settings: MqttSettings,
    influx: InfluxV1,
    raw_publisher: RawPublisher,
    unique: str,
    tmp_path: Path,
) -> None:
    """Both sessions get every passage (the bulk lane subscribes to everything). Queued
    for a hub that was away, they arrive in both lanes at once, and the lanes race: each
    passage must still be counted, shown and derived from once."""
    config = fast_config(mqtt_settings, influx.url, influx.database, f"hub-{unique}", tmp_path)
    away = HubService(config)
    away.start()  # both lanes' sessions exist: the broker queues for both
    away.stop()
    em = MemoryEmitter(f"{unique}-cp04-n1", f"{unique}-cp04", unique)
    passages = [passage(em, pass_id=f"p-{i}") for i in range(300)]
    fever = passage(em, temp=(38.3, 38.6))
    raw_publisher.publish(
        [(topics.event_topic(em.node_id, "passage"), encode(p)) for p in [*passages, fever]]
    )
    shown: list[str] = []
    hub = HubService(config)
    hub.start()
    try:
        assert hub.ingest is not None
        assert hub.alerting is not None
        ingest = hub.ingest
        ingest.on_stored = lambda events: shown.extend(e.id for e in events)
        bulk, priority = ingest.lanes
        # Every copy read by both lanes: what each lane dropped or stored is settled.
        wait_for(lambda: ingest.stats["stored"] >= len(passages) + 1, what="all stored")
        time.sleep(0.5)  # the slower lane's copies too
        stored_metric = hub.metrics.registry.get_sample_value("checkpoint_hub_events_stored_total")
        fevers = [a for a in hub.alerting.store.find() if a.kind == "fever"]
    finally:
        hub.stop()
    assert ingest.stats["stored"] == stored_metric == len(passages) + 1
    # (Shown from when the callback was set, just after the start: none twice.)
    assert len(shown) == len(set(shown))
    assert set(shown) <= {p.id for p in [*passages, fever]}
    assert ingest.stats["duplicates"] == 0
    assert [a.count for a in fevers] == [1], "the fever derived from once"
    rows = influx.query('SELECT "event_id" FROM "passage" WHERE "node" = $n', {"n": em.node_id})
    assert len(rows) == len(passages) + 1
    # Each lane counts what it stored first; together, each passage once.
    assert bulk.stats["stored"] + priority.stats["stored"] == len(passages) + 1
