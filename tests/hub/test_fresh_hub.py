"""A hub on its first start, as an installer meets it: no signing key, no InfluxDB
database, no node heard yet. It says what it lacks, answers empty lists, refuses to issue
passes with a clear 503, and takes up a key made with `checkpoint passes keygen` at once."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from checkpoint.localstack import LocalStack
from checkpoint.settings.mqtt import MqttSettings
from hub.api.keys import KeyStore
from hub.api.roles import Role
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.helpers import run_checkpoint
from tests.hub.conftest import fast_config


@pytest.fixture
def fresh(
    stack: LocalStack, mqtt_settings: MqttSettings, unique: str, tmp_path: Path
) -> Iterator[HubService]:
    config = fast_config(
        mqtt_settings, stack.influx_url, f"fresh_{unique}", f"hub-{unique}", tmp_path / "hub"
    )
    hub = HubService(config)
    hub.start()
    yield hub
    hub.stop()


def test_a_fresh_hub_says_what_it_lacks_and_takes_up_a_new_key(
    fresh: HubService, tmp_path: Path
) -> None:
    assert fresh.api is not None
    assert fresh.engine is not None
    _, token = KeyStore(fresh.engine).issue(Role.ADMIN, "installer")
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{fresh.api.port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    keys_dir = tmp_path / "hub" / "passes" / "keys"

    # The database exists from the start: the API answers empty lists, not 503.
    assert InfluxV1(fresh.config.influx.url, fresh.config.influx.database).database_exists()
    assert (api.get("/wards").status_code, api.get("/wards").json()) == (200, [])
    assert (api.get("/nodes").status_code, api.get("/nodes").json()) == (200, [])

    ready = api.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] is True
    assert len(body["missing"]) == 1
    assert "pass signing key" in body["missing"][0]
    assert "checkpoint passes keygen --keys DATA_DIR/passes/keys" in body["missing"][0]
    assert str(tmp_path) not in ready.text

    request = {"category": "resident", "ward_id": "phucla"}
    refused = api.post("/passes", json=request)
    assert refused.status_code == 503
    assert "no pass signing key yet" in refused.text
    assert "checkpoint passes keygen" in refused.text
    assert str(tmp_path) not in refused.text

    made = run_checkpoint("passes", "keygen", "--keys", str(keys_dir))
    assert made.returncode == 0, made.stderr
    issued = api.post("/passes", json=request)
    assert issued.status_code == 201, issued.text
    assert issued.json()["key_id"] == made.stdout.strip()
    assert api.get("/readyz").json()["missing"] == []


def test_the_start_log_names_what_is_missing_in_one_line(
    stack: LocalStack,
    mqtt_settings: MqttSettings,
    unique: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = fast_config(
        mqtt_settings, stack.influx_url, f"fresh_{unique}", f"hub-{unique}", tmp_path
    )
    hub = HubService(config)
    with caplog.at_level(logging.WARNING, logger="hub.service"):
        hub.start()
    try:
        lines = [r.getMessage() for r in caplog.records if "runs without" in r.getMessage()]
        assert lines == [
            "the hub runs without: a pass signing key (passes cannot be issued): create one "
            f"with `checkpoint passes keygen --keys {tmp_path / 'passes' / 'keys'}`, "
            "no restart needed"
        ]
        assert len(hub.lacks()) == 1  # what /readyz reports, without the path
    finally:
        hub.stop()
