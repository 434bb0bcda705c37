"""The configs a bundle carries, as YAML: the hub's, and each node's with its I2C
addresses in hex (``0x5A``), as the ward file and the wiring guide write them."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from checkpoint.errors import ConfigError
from checkpoint.settings.mqtt import CLIENT_ID_FIELD
from greenzone.provision.ward import CA_FILE, HUB_CREDENTIALS, HUB_SESSION_DIR, WardConfig
from hub.config import HubConfig

# The hub runs beside the ward's broker and reaches it over loopback; the broker's
# certificate names this address too (bundle.py), so TLS holds on that path as well.
HUB_BROKER_HOST = "127.0.0.1"
HEX_KEYS = frozenset({"address"})  # I2C addresses (thermometer.address)


def hub_config_data(ward: WardConfig) -> dict[str, Any]:
    """The hub's config: its client id, one certificate per session, the local InfluxDB,
    the ward's name."""
    data: dict[str, Any] = {
        "kind": "hub",
        "client_id": ward.hub_username,
        "mqtt": {
            "host": HUB_BROKER_HOST,
            "port": ward.broker.port,
            "username": ward.hub_username,  # the broker takes each session's from its cert
            "tls": {
                "ca_file": CA_FILE,
                "cert_file": f"{HUB_CREDENTIALS}/{HUB_SESSION_DIR}_{CLIENT_ID_FIELD}.pem",
                "key_file": f"{HUB_CREDENTIALS}/{HUB_SESSION_DIR}_{CLIENT_ID_FIELD}.key",
            },
        },
        "influx": {"url": "http://127.0.0.1:8086", "api": "v1", "database": "checkpoint"},
    }
    if ward.name:  # the one place the console, the pass card and the report read it from
        data["wards"] = {ward.ward_id: {"name": ward.name}}
    return data


def check_hub_config(data: dict[str, Any], source: str) -> None:
    """Refuse a hub config the hub would refuse (provisioning composes both sides)."""
    try:
        HubConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: the hub config it makes is invalid: {exc}") from exc


class _HexInt(int):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _HexInt,
    lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:int", f"0x{value:02X}"),
)


def _hex_addresses(data: Any, key: str = "") -> Any:
    if isinstance(data, dict):
        return {k: _hex_addresses(v, k) for k, v in data.items()}
    if isinstance(data, list):
        return [_hex_addresses(v) for v in data]
    if key in HEX_KEYS and isinstance(data, int) and not isinstance(data, bool):
        return _HexInt(data)
    return data


def config_yaml(header: str, data: dict[str, Any]) -> str:
    body = yaml.dump(_hex_addresses(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return header + body
