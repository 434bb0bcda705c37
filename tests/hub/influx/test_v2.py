"""The v2 write path (influxdb-client, gzip) against a real server: VictoriaMetrics accepts
``/api/v2/write`` and reads points back at once through ``/api/v1/export``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from checkpoint.localstack import VictoriaMetrics
from checkpoint.settings.mqtt import MqttSettings
from hub.config import InfluxSettings
from hub.influx.schema import event_point
from hub.influx.v2 import InfluxV2
from hub.influx.writer import InfluxError, open_writer
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher, event_message, fast_config, reading


@pytest.fixture(scope="module")
def victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    server = VictoriaMetrics(tmp_path_factory.mktemp("victoria"))
    server.start()
    yield server
    server.stop()


def export(url: str, match: str) -> list[dict[str, object]]:
    resp = httpx.post(f"{url}/api/v1/export", data={"match[]": match}, timeout=10)
    resp.raise_for_status()
    return [json.loads(line) for line in resp.text.splitlines() if line]


def test_v2_writer_stores_points_in_victoria_metrics(
    victoria: VictoriaMetrics, unique: str
) -> None:
    writer = open_writer(InfluxSettings(url=victoria.url, api="v2", database="checkpoint"))
    assert isinstance(writer, InfluxV2)
    node = f"{unique}-cp01-n1"
    start = datetime.now(UTC) - timedelta(minutes=1)
    events = [
        reading(node, i, ts=start + timedelta(seconds=i), temp=36.0 + i / 10) for i in range(5)
    ]
    try:
        writer.write_lines([event_point(e).to_line() for e in events])
    finally:
        writer.close()

    # Freshly ingested rows wait in memory for seconds before search sees them; ask
    # VictoriaMetrics to flush them now rather than waiting.
    httpx.get(f"{victoria.url}/internal/force_flush", timeout=10).raise_for_status()
    [series] = wait_for(
        lambda: export(victoria.url, f'reading_object_c{{node="{node}"}}'), what="the points"
    )
    metric = series["metric"]
    assert isinstance(metric, dict)
    assert metric["ward"] == "w"
    assert metric["checkpoint"] == f"{unique}-cp01"
    assert series["values"] == pytest.approx([36.0, 36.1, 36.2, 36.3, 36.4])
    # VictoriaMetrics keeps milliseconds: the point time is the event's, to the ms.
    assert series["timestamps"] == [int(e.ts.timestamp() * 1000) for e in events]


def test_v2_writer_reports_an_unreachable_server_as_retryable(tmp_path: Path) -> None:
    writer = InfluxV2("http://127.0.0.1:9", "checkpoint", timeout_s=2)
    try:
        with pytest.raises(InfluxError) as info:
            writer.write_lines([event_point(reading("n-cp01-n1", 1)).to_line()])
    finally:
        writer.close()
    assert info.value.retryable


def test_hub_with_influx_api_v2_stores_mqtt_events_in_victoria_metrics(
    victoria: VictoriaMetrics,
    mqtt_settings: MqttSettings,
    raw_publisher: RawPublisher,
    unique: str,
    tmp_path: Path,
) -> None:
    cfg = fast_config(mqtt_settings, victoria.url, "checkpoint", f"hub-{unique}", tmp_path)
    cfg = cfg.model_copy(update={"influx": InfluxSettings(url=victoria.url, api="v2")})
    hub = HubService(cfg)
    hub.start()
    node = f"{unique}-cp02-n1"
    start = datetime.now(UTC) - timedelta(minutes=1)
    events = [reading(node, i, ts=start + timedelta(seconds=i)) for i in range(20)]
    try:
        raw_publisher.publish([event_message(e) for e in events])
        wait_for(lambda: hub.ingest and hub.ingest.stats["stored"] == 20, what="hub stored")
    finally:
        hub.stop()
    httpx.get(f"{victoria.url}/internal/force_flush", timeout=10).raise_for_status()
    [series] = wait_for(lambda: export(victoria.url, f'reading_seq{{node="{node}"}}'), what="seq")
    assert series["values"] == list(range(20))
