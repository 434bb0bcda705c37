"""``checkpoint provision``: what it writes, that a second run keeps credentials, and that
a bad ward file is refused with the file and key named, before anything is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography import x509

from checkpoint.errors import ConfigError
from checkpoint.provision import passwords
from checkpoint.provision.bundle import provision
from checkpoint.provision.ward import WardConfig, check_node_configs
from edge.config import NodeConfig
from tests.field.conftest import small_ward

BIN = str(Path(sys.executable).with_name("checkpoint"))


def test_every_node_gets_a_config_a_certificate_and_a_password_the_broker_file_accepts(
    tmp_path: Path,
) -> None:
    bundle = provision(small_ward(), tmp_path)
    assert bundle.nodes == ["testward-cp01-n1", "testward-cp02-n1", "testward-cp02-n2"]
    lines = (tmp_path / "broker" / "passwd").read_text().splitlines()
    assert len(lines) == 4  # the hub and three nodes
    ca = x509.load_pem_x509_certificate((tmp_path / "ca" / "ward-ca.pem").read_bytes())
    for node_id in bundle.nodes:
        where = bundle.node_dir(node_id)
        config = NodeConfig.model_validate(yaml.safe_load((where / "config.yaml").read_text()))
        assert config.node_id == config.mqtt.username == node_id
        cert = x509.load_pem_x509_certificate((where / "node.pem").read_bytes())
        cert.verify_directly_issued_by(ca)
        cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        assert cn == node_id
        line = next(x for x in lines if x.startswith(f"{node_id}:"))
        assert passwords.check_line(line, (where / "mqtt-password").read_text().strip())
        assert (where / "node.key").stat().st_mode & 0o077 == 0
        assert (where / "mqtt-password").stat().st_mode & 0o077 == 0
    assert (tmp_path / "ca" / "ward-ca.key").stat().st_mode & 0o077 == 0


def test_a_second_run_keeps_the_ca_and_existing_credentials_and_adds_new_nodes(
    tmp_path: Path,
) -> None:
    ward = small_ward()
    provision(ward, tmp_path)
    ca = (tmp_path / "ca" / "ward-ca.pem").read_bytes()
    key = (tmp_path / "nodes" / "testward-cp01-n1" / "node.key").read_bytes()
    grown = ward.model_copy(
        update={
            "checkpoints": [
                *ward.checkpoints,
                ward.checkpoints[0].model_copy(update={"id": "testward-cp03"}),
            ]
        }
    )
    again = provision(grown, tmp_path)
    assert again.created == ["testward-cp03-n1"]
    assert (tmp_path / "ca" / "ward-ca.pem").read_bytes() == ca
    assert (tmp_path / "nodes" / "testward-cp01-n1" / "node.key").read_bytes() == key


def test_a_changed_broker_name_reissues_the_server_certificate(tmp_path: Path) -> None:
    ward = small_ward()
    provision(ward, tmp_path)
    first = (tmp_path / "broker" / "server.pem").read_bytes()
    provision(ward, tmp_path)
    assert (tmp_path / "broker" / "server.pem").read_bytes() == first
    moved = ward.model_copy(update={"broker": ward.broker.model_copy(update={"host": "hub2.lan"})})
    provision(moved, tmp_path)
    cert = x509.load_pem_x509_certificate((tmp_path / "broker" / "server.pem").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "hub2.lan" in san.get_values_for_type(x509.DNSName)


def test_provision_has_help() -> None:
    result = subprocess.run(
        [BIN, "provision", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    assert "--out" in result.stdout


def test_a_bad_override_names_the_checkpoint_and_the_key_and_writes_nothing(
    tmp_path: Path,
) -> None:
    data = small_ward().model_dump()
    data["checkpoints"][1]["overrides"] = {"pins": {"buzzer": 17}}  # 17 is the presence input
    ward = WardConfig.model_validate(data)
    with pytest.raises(ConfigError) as info:
        provision(ward, tmp_path / "out", source="wards/test.yaml")
    message = str(info.value)
    assert message == (
        "wards/test.yaml: checkpoints[testward-cp02].overrides.pins: "
        "GPIO 17 is used for both presence and buzzer"
    )
    assert not (tmp_path / "out").exists()


def test_duplicate_checkpoints_are_refused() -> None:
    data = small_ward().model_dump()
    data["checkpoints"].append(data["checkpoints"][0])
    with pytest.raises(ValueError, match="appears twice"):
        WardConfig.model_validate(data)


def test_identity_cannot_be_overridden() -> None:
    data = small_ward().model_dump()
    data["node_defaults"] = {"node_id": "someone-else", "mqtt": {"username": "someone-else"}}
    configs = check_node_configs(WardConfig.model_validate(data), "x")
    assert [c["mqtt"]["username"] for c in configs] == [c["node_id"] for c in configs]
    assert "someone-else" not in {c["node_id"] for c in configs}


def test_the_command_line(tmp_path: Path) -> None:
    ward_file = tmp_path / "ward.yaml"
    ward_file.write_text(yaml.safe_dump(small_ward().model_dump(mode="json")))
    result = subprocess.run(
        [BIN, "provision", str(ward_file), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "broker" / "acl").exists()
    ward_file.write_text("ward_id: Bad Id\ncheckpoints: []\n")
    result = subprocess.run(
        [BIN, "provision", str(ward_file), "--out", str(tmp_path / "out2")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert f"{ward_file}:1:1: ward_id:" in result.stderr
    assert "checkpoints:" in result.stderr
