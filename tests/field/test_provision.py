"""``checkpoint provision``: what it writes, that a second run keeps credentials, and that
a bad ward file is refused with the file and key named, before anything is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography import x509

from checkpoint.contract.node.config import NodeConfig
from checkpoint.errors import ConfigError
from checkpoint.settings.loading import read_yaml
from greenzone.provision import pki
from greenzone.provision.bundle import provision
from greenzone.provision.report import summary
from greenzone.provision.ward import WardConfig, check_node_configs
from hub.config import HubConfig
from tests.field.conftest import small_ward

BIN = str(Path(sys.executable).with_name("checkpoint"))


def _common_name(cert_file: Path, ca: x509.Certificate) -> str:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    cert.verify_directly_issued_by(ca)
    return str(cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value)


def test_every_account_gets_a_certificate_named_for_it_and_nodes_get_their_config(
    tmp_path: Path,
) -> None:
    bundle = provision(small_ward(), tmp_path)
    assert bundle.nodes == ["testward-cp01-n1", "testward-cp02-n1", "testward-cp02-n2"]
    ca = x509.load_pem_x509_certificate((tmp_path / "ca" / "ward-ca.pem").read_bytes())
    for node_id in bundle.nodes:
        where = bundle.node_dir(node_id)
        config = NodeConfig.model_validate(yaml.safe_load((where / "config.yaml").read_text()))
        assert config.node_id == config.mqtt.username == node_id
        assert _common_name(where / "node.pem", ca) == node_id  # the broker's user name
        assert (where / "node.key").stat().st_mode & 0o077 == 0
    hub = bundle.hub_sessions_dir
    for account in ["testward-hub", "testward-hub-priority", "testward-hub-api"]:
        assert _common_name(hub / f"{account}.pem", ca) == account
        assert (hub / f"{account}.key").stat().st_mode & 0o077 == 0
    cc = bundle.command_centre_dir / "command-centre.pem"
    assert _common_name(cc, ca) == "testward-command-centre"
    assert (tmp_path / "ca" / "ward-ca.key").stat().st_mode & 0o077 == 0
    assert not list(tmp_path.rglob("*password*"))  # the certificate is the credential


def test_the_hub_config_connects_to_a_name_the_broker_certificate_holds(tmp_path: Path) -> None:
    ward = small_ward().model_copy(update={"name": "Phường Thử, quận Hà Đông"})
    bundle = provision(ward, tmp_path)
    config = HubConfig.model_validate(read_yaml(bundle.hub_dir / "hub.yaml"))
    assert config.client_id == "testward-hub"
    assert config.wards["testward"].name == "Phường Thử, quận Hà Đông"  # from the ward file
    assert pki.covers((tmp_path / "broker" / "server.pem").read_bytes(), [config.mqtt.host])
    assert config.mqtt.tls is not None
    cert, _key = config.mqtt.tls.client_files("testward-hub-priority")
    assert cert == "/run/credentials/checkpoint-hub.service/mqtt_testward-hub-priority.pem"


def test_the_acl_gives_the_command_centre_its_wards_alerts_and_nothing_else(
    tmp_path: Path,
) -> None:
    provision(small_ward(), tmp_path)
    blocks = (tmp_path / "broker" / "acl").read_text().split("\n\n")
    cc = next(b for b in blocks if b.startswith("user testward-command-centre"))
    assert cc.strip().splitlines()[1:] == ["topic read checkpoint/v1/alerts/testward"]
    assert "pattern" not in "".join(blocks)  # a pattern would apply to every account


def test_i2c_addresses_are_written_in_hex(tmp_path: Path) -> None:
    ward = small_ward().model_copy(update={"node_defaults": {"thermometer": {"address": 0x5B}}})
    bundle = provision(ward, tmp_path)
    text = (bundle.node_dir("testward-cp01-n1") / "config.yaml").read_text()
    assert "  address: 0x5B\n" in text
    assert NodeConfig.model_validate(yaml.safe_load(text)).thermometer.address == 0x5B


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
    assert again.changed == ["acl"]  # the new node's account; Mosquitto reloads it
    assert "New certificates (1): testward-cp03-n1" in summary(grown, again)
    assert "sudo systemctl reload mosquitto" in summary(grown, again)
    unchanged = provision(grown, tmp_path)
    assert (unchanged.created, unchanged.changed) == ([], [])
    assert "mosquitto" not in summary(grown, unchanged)
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


def test_account_names_that_clash_or_cannot_be_a_common_name_are_refused() -> None:
    data = small_ward().model_dump()
    data["hub_username"] = "testward-command-centre"
    with pytest.raises(ValueError, match="testward-command-centre: names two accounts"):
        WardConfig.model_validate(data)
    data = small_ward().model_dump()
    data["ward_id"] = "w" * 55  # its command-centre account would be 70 characters
    with pytest.raises(ValueError, match="at most 64 characters"):
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
    assert "Next steps:" in result.stdout
    assert "sudo systemctl restart mosquitto" in result.stdout  # a new broker
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
