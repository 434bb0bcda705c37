"""Shared fixtures: one real Mosquitto + InfluxDB for the session, isolated per test.

Tests isolate themselves by name (a fresh InfluxDB database and fresh node ids per test)
rather than by restarting services, which keeps the suite fast on two cores.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.localstack import LocalStack
from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.localstack.postgres import Postgres
from checkpoint.settings.mqtt import MqttSettings
from hub.influx.v1 import InfluxV1
from tests.hubproc import TIME_BATCHES, HubProcess

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
def hub_process(
    tmp_path: Path, mqtt_settings: MqttSettings, influx: InfluxV1, unique: str
) -> Iterator[HubProcess]:
    """``checkpoint hub run`` configured (not started) against the session's broker and
    this test's database, batching by time so that a kill finds a batch pending."""
    hub = HubProcess.configured(
        tmp_path / "hub",
        client_id=f"hub-{unique}",
        mqtt=mqtt_settings,
        influx=influx,
        batch=TIME_BATCHES,
    )
    yield hub
    hub.close()


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return tmp_path


# A real PostgreSQL, started once per session, only when a test asks for it.
@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    with Postgres(tmp_path_factory.mktemp("postgres")) as server:
        yield server


@pytest.fixture
def pass_key_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The name of a systemd credential holding the secret that seals pass signing keys
    in the state store, in a $CREDENTIALS_DIRECTORY of the test's own."""
    directory = tmp_path / "credentials"
    directory.mkdir()
    (directory / "pass-keys").write_text(secrets.token_hex(32))
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(directory))
    return "pass-keys"


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto of the test's own: trust topics are global and retained, so tests that
    publish them must not share the session's broker."""
    server = Mosquitto(tmp_path / "broker")
    server.start()
    yield server
    server.stop()
