"""Two hub instances in one MQTT 5 shared-subscription group split the traffic: each
event is stored once, and both instances carry part of the load."""

from __future__ import annotations

from pathlib import Path

from checkpoint.settings.mqtt import MqttSettings
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher, event_message, fast_config, reading


def test_two_hubs_in_a_share_group_store_each_event_once(
    mqtt_settings: MqttSettings,
    influx: InfluxV1,
    raw_publisher: RawPublisher,
    unique: str,
    tmp_path: Path,
) -> None:
    hubs = [
        HubService(
            fast_config(
                mqtt_settings,
                influx.url,
                influx.database,
                f"hub-{unique}-{i}",
                tmp_path / str(i),
                share_group=f"g-{unique}",
            )
        )
        for i in range(2)
    ]
    for hub in hubs:
        hub.start()
    try:
        events = [reading(f"{unique}-cp{i % 5:02d}-n1", i) for i in range(200)]
        raw_publisher.publish([event_message(e) for e in events])

        def stored() -> list[int]:
            return [h.ingest.stats["stored"] if h.ingest else 0 for h in hubs]

        wait_for(lambda: sum(stored()) >= 200, what="both hubs together stored all")
        assert sum(stored()) == 200
        assert all(n > 0 for n in stored())  # the broker gave each hub a share
    finally:
        for hub in hubs:
            hub.stop()
    rows = influx.query('SELECT "event_id" FROM "reading"')
    assert sorted(r["event_id"] for r in rows) == sorted(e.id for e in events)
