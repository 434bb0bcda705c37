"""A provisioned ward and its own TLS broker, started from the bundle's files.

A pytest plugin (tests/conftest.py): the field tests and the reliability suite's ACL
scenario share these fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.localstack.process import free_port
from greenzone.provision.broker import service_conf
from greenzone.provision.bundle import Bundle, provision
from greenzone.provision.ward import WardConfig


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


def password(where: Path) -> str:
    return (where / "mqtt-password").read_text().strip()
