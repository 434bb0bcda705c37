"""A provisioned ward and its own TLS broker, started from the bundle's files.

A pytest plugin (tests/conftest.py): the field tests and the reliability suite's ACL
scenario share these fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.localstack.process import free_port
from checkpoint.settings.mqtt import CLIENT_ID_FIELD, MqttSettings, TlsSettings
from greenzone.provision.broker import service_conf
from greenzone.provision.bundle import Bundle, provision
from greenzone.provision.ward import WardConfig
from tests.field.clients import User


def small_ward() -> WardConfig:
    return WardConfig.model_validate(
        {
            "ward_id": "testward",
            "broker": {"host": "localhost", "alt_names": ["127.0.0.1"]},
            "hub_username": "testward-hub",
            "checkpoints": [
                {"id": "testward-cp01", "group": 1},
                {"id": "testward-cp02", "group": 1, "nodes": 2},
            ],
        }
    )


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    return provision(small_ward(), tmp_path_factory.mktemp("bundle"))


@pytest.fixture(scope="module")
def secure_broker(bundle: Bundle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    port = free_port()
    broker = Mosquitto(
        tmp_path_factory.mktemp("tls-broker"),
        port=port,
        # The conf.d file provisioning writes, pointed at the bundle's files.
        extra_config=service_conf(port, bundle.out / "broker", bind="127.0.0.1"),
    )
    broker.start()
    yield broker
    broker.stop()


def account_settings(bundle: Bundle, broker: Mosquitto, account: str) -> MqttSettings:
    """A provisioned account's settings on the test broker: a node id, or the hub's
    user name (then each session's certificate is picked by its client id)."""
    ward = small_ward()
    if account == ward.hub_username:
        ca, files, stem = bundle.hub_dir, bundle.hub_sessions_dir, CLIENT_ID_FIELD
    else:
        ca = files = bundle.node_dir(account)
        stem = "node"
    return MqttSettings(
        host=broker.host,
        port=broker.port,
        username=account,
        tls=TlsSettings(
            ca_file=ca / "ward-ca.pem",
            cert_file=files / f"{stem}.pem",
            key_file=files / f"{stem}.key",
        ),
    )


def hub_session(bundle: Bundle, client_id: str) -> User:
    """A test client with the certificate of the hub session ``client_id``."""
    return User(
        client_id, bundle.hub_sessions_dir, client_id, ca_file=bundle.hub_dir / "ward-ca.pem"
    )
