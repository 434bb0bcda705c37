"""The files a technician installs agree with the code: the Mosquitto configuration is what
provisioning writes, the systemd units load cleanly and hand in the credentials that the
node and hub configs name."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checkpoint.settings.loading import read_yaml
from greenzone.provision.broker import BROKER_FILES, acl_text, service_conf
from greenzone.provision.ward import PASSWORD_CREDENTIAL, node_config_data
from tests.field.conftest import small_ward

ROOT = Path(__file__).resolve().parents[2] / "firmware_config"
UNITS = sorted((ROOT / "systemd").glob("*.service"))


def test_the_mosquitto_files_are_what_provisioning_writes() -> None:
    """Regenerate: see firmware_config/mosquitto/README.md."""
    conf = (ROOT / "mosquitto" / "checkpoint.conf").read_text()
    assert conf == service_conf(8883, BROKER_FILES)
    assert (ROOT / "mosquitto" / "acl.example").read_text() == acl_text("phucla-hub")


def _unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def _credentials(path: Path) -> set[str]:
    lines = path.read_text().splitlines()
    return {
        line.split("=", 1)[1].split(":", 1)[0]
        for line in lines
        if line.startswith("LoadCredential=")
    }


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_units_are_watched_restarted_confined_and_get_secrets_as_credentials(unit: Path) -> None:
    service = _unit(unit)["Service"]
    assert service["Type"] == "notify"
    assert int(service["WatchdogSec"]) > 0
    assert service["Restart"] == "always"
    assert service["User"] not in ("", "root")
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == "yes"
    assert PASSWORD_CREDENTIAL in _credentials(unit)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    exe = str(Path(sys.executable).with_name("checkpoint"))
    for unit in UNITS:
        # verify insists that ExecStart exists: point it at this install.
        text = unit.read_text()
        for path in (
            "/opt/checkpoint/venv/bin/checkpoint",
            "/opt/checkpoint/current/bin/checkpoint",
        ):
            text = text.replace(path, exe)
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(tmp_path / u.name) for u in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout + result.stderr == ""


def _referenced(config: dict[str, object], unit_name: str) -> set[str]:
    """Credential names a config reads: password_credential and /run/credentials/UNIT/X."""
    mqtt = config["mqtt"]
    assert isinstance(mqtt, dict)
    names = {mqtt["password_credential"]}
    prefix = f"/run/credentials/{unit_name}/"
    for path in (mqtt.get("tls") or {}).values():
        if str(path).startswith("/run/credentials/"):
            assert str(path).startswith(prefix), f"{path} is not {unit_name}'s"
            names.add(str(path).removeprefix(prefix))
    return names


def test_node_and_hub_configs_read_only_credentials_their_unit_loads() -> None:
    ward = small_ward()
    spec = ward.checkpoints[0]
    provisioned = node_config_data(ward, spec, spec.node_ids()[0])
    node_unit = ROOT / "systemd" / "checkpoint-node.service"
    hub_unit = ROOT / "systemd" / "checkpoint-hub.service"
    for config in (provisioned, read_yaml(ROOT / "examples" / "node.yaml")):
        assert _referenced(config, node_unit.name) <= _credentials(node_unit)
    hub = read_yaml(ROOT / "examples" / "hub.yaml")
    assert _referenced(hub, hub_unit.name) <= _credentials(hub_unit)
