"""Fixtures for hub tests: events as nodes make them, a raw MQTT publisher, a hub."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from sqlalchemy import Engine

from checkpoint.contract import Reading, encode, topics, uuid7
from checkpoint.localstack.postgres import Postgres
from checkpoint.settings.mqtt import MqttSettings
from hub.api.settings import ApiSettings
from hub.config import BatchSettings, HubConfig, InfluxSettings, MetricsSettings
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from hub.state import open_store


def reading(
    node: str, seq: int, *, ward: str = "w", ts: datetime | None = None, temp: float = 36.5
) -> Reading:
    return Reading(
        id=uuid7(),
        seq=seq,
        node_id=node,
        checkpoint_id=node.rsplit("-", 1)[0],
        ward_id=ward,
        ts=ts or datetime.now(UTC) - timedelta(seconds=1),
        object_c=temp,
        ambient_c=29.0,
        samples=5,
        spread_c=0.1,
        emissivity=0.98,
    )


def made_at(seq: int) -> datetime:
    """When a node made its ``seq``-th event of a long synthetic stream: half a second
    apart, from three hours ago. Dated like that, a stream of thousands from one node is a
    backlog, not a flood (the hub's per-node budget runs on the events' own time)."""
    return datetime.now(UTC) - timedelta(hours=3) + timedelta(seconds=seq / 2)


def event_message(event: Reading) -> tuple[str, bytes]:
    return topics.event_topic(event.node_id, event.type.value), encode(event)


class RawPublisher:
    """Publishes prepared (topic, payload) pairs at QoS 1 and waits for every PUBACK.

    Raw bytes on purpose: bad-input tests must send what no contract model would build.
    """

    def __init__(self, settings: MqttSettings, client_id: str) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
        )
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        connected = threading.Event()
        self.client.on_connect = lambda *_a: connected.set()
        self.client.connect(settings.host, settings.port)
        self.client.loop_start()
        if not connected.wait(10):
            raise AssertionError("test publisher could not connect")

    def publish(self, messages: Sequence[tuple[str, bytes]], timeout_s: float = 30.0) -> None:
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(timeout_s)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def raw_publisher(mqtt_settings: MqttSettings, unique: str) -> Iterator[RawPublisher]:
    pub = RawPublisher(mqtt_settings, f"pub-{unique}")
    yield pub
    pub.close()


def fast_config(
    mqtt: MqttSettings,
    influx_url: str,
    database: str,
    client_id: str,
    data_dir: Path,
    **extra: object,
) -> HubConfig:
    """A hub config with test-sized intervals: batches every 50 ms, retries from 50 ms."""
    return HubConfig.model_validate(
        {
            "client_id": client_id,
            "data_dir": data_dir,
            "mqtt": mqtt,
            "influx": InfluxSettings(url=influx_url, database=database),
            "batch": BatchSettings(max_interval_s=0.05, retry_initial_s=0.05, retry_max_s=0.5),
            "metrics": MetricsSettings(port=0),
            "api": ApiSettings(port=0),
            **extra,
        }
    )


@pytest.fixture
def hub_config(
    mqtt_settings: MqttSettings, influx: InfluxV1, unique: str, tmp_path: Path
) -> HubConfig:
    return fast_config(mqtt_settings, influx.url, influx.database, f"hub-{unique}", tmp_path)


@pytest.fixture
def hub(hub_config: HubConfig) -> Iterator[HubService]:
    service = HubService(hub_config)
    service.start()
    yield service
    service.stop()


# The state store on both engines it supports: a SQLite file and a real PostgreSQL (the
# session's ``postgres``, tests/conftest.py).
@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path, unique: str) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hub.db'}"
    else:
        server: Postgres = request.getfixturevalue("postgres")
        url = server.create_database(f"alerts_{unique}")
    store = open_store(url)
    yield store
    store.dispose()
