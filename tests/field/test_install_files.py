"""The files a technician installs agree with the code: the Mosquitto configuration and
the example hub config are what provisioning writes, the systemd units load cleanly, are
confined as `systemd-analyze security` checks, and hand in the credentials that the node
and hub configs name; `checkpoint install-files` puts the shipped copies in place."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checkpoint.errors import ConfigError
from checkpoint.fieldfiles import install
from checkpoint.settings.loading import read_yaml
from greenzone.provision.configs import hub_config_data
from greenzone.provision.examples import expected
from greenzone.provision.ward import node_config_data
from tests.field.conftest import small_ward

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / "firmware_config"
UNITS = sorted((ROOT / "systemd").glob("*.service"))
ANALYZE = shutil.which("systemd-analyze")


def test_the_generated_examples_are_what_provisioning_writes() -> None:
    """Regenerate: see firmware_config/mosquitto/README.md."""
    for name, text in expected(ROOT).items():
        assert (ROOT / name).read_text() == text, name


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
    assert _credentials(unit)
    # The encrypted form is documented beside the plain one, ready to swap in.
    assert "#   LoadCredentialEncrypted=" in unit.read_text()


@pytest.mark.skipif(ANALYZE is None, reason="needs systemd-analyze")
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


HARDENING = ["ProtectProc=", "ProcSubset=", "RemoveIPC=", "SystemCallFilter=~@privileged"]


@pytest.mark.skipif(ANALYZE is None, reason="needs systemd-analyze (systemd >= 250)")
@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_units_pass_systemd_analyze_security(unit: Path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--threshold=25", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # --threshold: a non-zero exit when the exposure is above 2.5 ("OK" ends at 3.9).
    assert result.returncode == 0, result.stdout + result.stderr
    passed = {m.group(1) for m in re.finditer(r"^✓ (\S+)", result.stdout, re.MULTILINE)}
    assert [check for check in HARDENING if check not in passed] == []


def _referenced(config: dict[str, object], unit_name: str) -> set[str]:
    """Credential names a config reads from /run/credentials/UNIT/."""
    mqtt = config["mqtt"]
    assert isinstance(mqtt, dict)
    names = {mqtt["password_credential"]} if mqtt.get("password_credential") else set()
    prefix = f"/run/credentials/{unit_name}/"
    for path in (mqtt.get("tls") or {}).values():
        if str(path).startswith("/run/credentials/"):
            assert str(path).startswith(prefix), f"{path} is not {unit_name}'s"
            names.add(str(path).removeprefix(prefix))
    return names


def _loaded(name: str, credentials: set[str]) -> bool:
    # A directory credential ID loads each file as ID_<file>.
    return name in credentials or any(name.startswith(f"{c}_") for c in credentials)


def test_node_and_hub_configs_read_only_credentials_their_unit_loads() -> None:
    ward = small_ward()
    spec = ward.checkpoints[0]
    provisioned = node_config_data(ward, spec, spec.node_ids()[0])
    node_unit = ROOT / "systemd" / "checkpoint-node.service"
    hub_unit = ROOT / "systemd" / "checkpoint-hub.service"
    for config in (provisioned, read_yaml(ROOT / "examples" / "node.yaml")):
        referenced = _referenced(config, node_unit.name)
        assert referenced
        assert all(_loaded(n, _credentials(node_unit)) for n in referenced), referenced
    referenced = _referenced(hub_config_data(ward), hub_unit.name)
    assert referenced
    assert all(_loaded(n, _credentials(hub_unit)) for n in referenced), referenced


def test_install_files_puts_the_shipped_files_in_place_pointed_at_this_install(
    tmp_path: Path,
) -> None:
    done = install(tmp_path / "field")
    dest = (tmp_path / "field").resolve()
    for tree in ("firmware_config", "dashboards"):
        for source in (REPO / tree).rglob("*"):
            if source.is_file() and source.suffix != ".service":
                assert (dest / tree / source.relative_to(REPO / tree)).read_bytes() == (
                    source.read_bytes()
                )
    for unit in (dest / "firmware_config" / "systemd").glob("*.service"):
        service = _unit(unit)
        docs = service["Unit"]["Documentation"]
        assert Path(docs.removeprefix("file://")).is_file(), docs
        command = service["Service"]["ExecStart"].split()[0]
        assert command == str(Path(sys.executable).with_name("checkpoint"))
    assert len(done.written) == len(list(dest.rglob("*.*")))
    again = install(tmp_path / "field")
    assert (again.written, len(again.unchanged)) == ([], len(done.written))


def test_install_files_refuses_to_overwrite_a_local_edit(tmp_path: Path) -> None:
    install(tmp_path)
    edited = tmp_path / "dashboards" / "README.md"
    edited.write_text("local notes\n")
    with pytest.raises(ConfigError, match="differ from the shipped files"):
        install(tmp_path)
    assert edited.read_text() == "local notes\n"
    install(tmp_path, force=True)
    assert edited.read_text() == (REPO / "dashboards" / "README.md").read_text()
