"""A provisioned bundle's own configs, installed in a scratch directory instead of /etc:
only the paths (systemd's credential directory, /etc/mosquitto/checkpoint, data
directories) and the ports are rewritten, everything else is what provisioning wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from checkpoint.localstack.process import free_port
from checkpoint.settings.loading import read_yaml
from greenzone.provision.bundle import BROKER_FILES, Bundle
from greenzone.provision.ward import CA_FILE, HUB_CREDENTIALS, HUB_SESSION_DIR, NODE_CREDENTIALS


def broker_conf(bundle: Bundle, port: int) -> str:
    """The bundle's checkpoint.conf on ``port`` of loopback, reading the bundle's files."""
    conf = (bundle.out / "broker" / "checkpoint.conf").read_text()
    conf = conf.replace(str(BROKER_FILES), str(bundle.out / "broker"))
    lines = [
        f"listener {port} 127.0.0.1" if line.startswith("listener ") else line
        for line in conf.splitlines()
    ]
    return "\n".join(lines) + "\n"


def _moved(path: str, old: str, new: Path) -> str:
    return str(new / Path(path).relative_to(old)) if path.startswith(old) else path


def _tls(mqtt: dict[str, Any], credentials: str, where: Path) -> None:
    tls = mqtt["tls"]
    tls["ca_file"] = _moved(tls["ca_file"], str(Path(CA_FILE).parent), where)
    for key in ("cert_file", "key_file"):
        tls[key] = _moved(tls[key], credentials, where)


def hub_config(bundle: Bundle, broker_port: int, influx_url: str, data: Path) -> dict[str, Any]:
    """The bundle's hub.yaml. Its session certificates are credentials loaded from a
    directory (``mqtt_<file>``): they are read from the bundle's hub/mqtt/<file>."""
    config = read_yaml(bundle.hub_dir / "hub.yaml")
    config["mqtt"]["port"] = broker_port
    loaded = f"{HUB_CREDENTIALS}/{HUB_SESSION_DIR}_"
    tls = config["mqtt"]["tls"]
    for key in ("cert_file", "key_file"):
        assert tls[key].startswith(loaded), tls[key]
        tls[key] = str(bundle.hub_sessions_dir / tls[key].removeprefix(loaded))
    _tls(config["mqtt"], HUB_CREDENTIALS, bundle.hub_dir)
    config["influx"]["url"] = influx_url
    config["data_dir"] = str(data)
    config["metrics"] = {"port": free_port()}
    config["api"] = {"port": free_port()}
    return config


def node_config(bundle: Bundle, node_id: str, broker_port: int, state: Path) -> dict[str, Any]:
    where = bundle.node_dir(node_id)
    config = read_yaml(where / "config.yaml")
    config["mqtt"]["port"] = broker_port
    _tls(config["mqtt"], NODE_CREDENTIALS, where)
    config.setdefault("uplink", {}).setdefault("outbox", {})["path"] = str(state / "outbox.sqlite")
    return config
