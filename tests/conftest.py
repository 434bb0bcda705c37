"""Shared fixtures: one real Mosquitto + InfluxDB for the session, isolated per test.

Tests isolate themselves by name (a fresh InfluxDB database and fresh node ids per test)
rather than by restarting services, which keeps the suite fast on two cores.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.localstack import LocalStack, Mosquitto
from checkpoint.settings.mqtt import MqttSettings
from hub.influx.v1 import InfluxV1

# The provisioned ward and its TLS broker (bundle, secure_broker), for any test directory.
pytest_plugins = ["tests.provisioned"]

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture
def mqtt_settings(stack: LocalStack) -> MqttSettings:
    return MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port)


@pytest.fixture
def unique() -> str:
    """A short id, different in every test, usable as a node or ward id."""
    return f"t{next(_counter):04d}"


@pytest.fixture
def influx(stack: LocalStack, unique: str) -> Iterator[InfluxV1]:
    client = InfluxV1(stack.influx_url, f"test_{unique}")
    client.create_database()
    yield client
    client.close()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto of the test's own, for what must not leak to other tests: retained
    trust documents, retained junk."""
    server = Mosquitto(tmp_path / "broker")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return tmp_path
