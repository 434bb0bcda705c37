"""Pieces the node-side fault scenarios share: a broker of the scenario's own (to pause,
to listen on a veth address) and a hub on it, both always stopped."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.localstack import Mosquitto
from checkpoint.localstack.process import free_port
from checkpoint.settings.mqtt import MqttSettings
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.hub.conftest import fast_config

# The long variants: run on demand, and past the suite's 300 s per-test timeout.
LONG = (pytest.mark.slow, pytest.mark.timeout(1800))


@contextlib.contextmanager
def own_broker(workdir: Path, *, also_on: str | None = None) -> Iterator[Mosquitto]:
    """A Mosquitto only this scenario uses (so it may pause it), on loopback, and also on
    ``also_on`` (an address of a veth pair) at the same port when given."""
    port = free_port()
    extra = ""
    if also_on is not None:
        extra = f"listener {port} 127.0.0.1\nlistener {port} {also_on}\nallow_anonymous true"
    broker = Mosquitto(workdir, port=port, extra_config=extra)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def broker_settings(broker: Mosquitto) -> MqttSettings:
    return MqttSettings(host=broker.host, port=broker.port)


@contextlib.contextmanager
def running_hub(
    mqtt: MqttSettings, influx: InfluxV1, client_id: str, data_dir: Path, **extra: object
) -> Iterator[HubService]:
    """The whole hub (ingest, rules, alerts) in-process, with test-sized batch intervals."""
    service = HubService(
        fast_config(mqtt, influx.url, influx.database, client_id, data_dir, **extra)
    )
    service.start()
    try:
        yield service
    finally:
        service.stop()
