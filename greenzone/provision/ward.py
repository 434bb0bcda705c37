"""The ward file: one ward's broker, its checkpoints and nodes, and what their configs share.

A ward file is the single input of ``checkpoint provision``. Each node's config is built
from it (``node_config_data``): the ward's ``node_defaults``, then the checkpoint's
``overrides``, on top of what provisioning decides (ids, broker, credentials, TLS files).
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import Field, ValidationError, model_validator

from checkpoint.contract.models import Id
from checkpoint.errors import ConfigError
from checkpoint.passes.wardpolicy import WardPolicy
from checkpoint.settings.base import StrictModel

# Where the node's systemd unit puts its secrets (LoadCredential= in
# firmware_config/systemd/checkpoint-node.service): credentials live under
# /run/credentials/<unit>/, readable only by the service.
NODE_CREDENTIALS = "/run/credentials/checkpoint-node.service"
NODE_CA_FILE = "/etc/checkpoint/ward-ca.pem"
PASSWORD_CREDENTIAL = "mqtt-password"  # noqa: S105 - a credential file name, not a secret


class BrokerEndpoint(StrictModel):
    """How nodes reach the ward's broker; the broker certificate is issued for these names."""

    host: str = Field(default="hub.local", description="Host name nodes connect to")
    port: int = Field(default=8883, ge=1, le=65535, description="TLS listener port")
    alt_names: list[str] = Field(
        default_factory=list,
        description="More DNS names or IP addresses in the broker certificate",
    )


class CheckpointSpec(StrictModel):
    id: Id = Field(description="Checkpoint id, e.g. phucla-cp07")
    group: int = Field(ge=1, le=200, description="Residential group (to dan pho) it guards")
    location: str = Field(default="", max_length=200, description="Where, for technicians")
    nodes: int = Field(default=1, ge=1, le=9, description="Nodes at this checkpoint (lanes)")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Node config keys that differ at this checkpoint"
    )
    zone: Id | None = Field(
        default=None,
        description="The innermost zone it guards (policy.zones); default: the zone "
        "<ward>-to<group, 2 digits> if the policy has it",
    )

    def node_ids(self) -> list[str]:
        return [f"{self.id}-n{i}" for i in range(1, self.nodes + 1)]


class WardConfig(StrictModel):
    ward_id: Id = Field(description="Ward (phuong) id; tag in InfluxDB, level in alert topics")
    name: str = Field(default="", max_length=200, description="Human name of the ward")
    config_version: str = Field(default="1", max_length=64, description="Version of node configs")
    broker: BrokerEndpoint = Field(default_factory=BrokerEndpoint)
    hub_username: Id = Field(default="hub", description="The hub's MQTT user; reads everything")
    node_defaults: dict[str, Any] = Field(
        default_factory=dict, description="Node config keys shared by every node (wiring ...)"
    )
    checkpoints: list[CheckpointSpec] = Field(min_length=1, description="Every checkpoint")
    policy: WardPolicy = Field(
        default_factory=WardPolicy,
        description="Who may pass per level and zone, opening hours, zones, shift plans "
        "(docs/ward-operations.md); the hub takes it at PUT /wards/<ward>/policy",
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> WardConfig:
        seen: set[str] = set()
        for spec in self.checkpoints:
            if spec.id in seen:
                raise ValueError(f"checkpoint id {spec.id!r} appears twice")
            seen.add(spec.id)
        nodes = {n for spec in self.checkpoints for n in spec.node_ids()}
        if self.hub_username in nodes:
            raise ValueError(f"hub_username {self.hub_username!r} is also a node id")
        for spec in self.checkpoints:
            if spec.zone is not None and spec.zone not in self.policy.zones:
                raise ValueError(f"checkpoint {spec.id}: zone {spec.zone!r} is not in policy.zones")
        for cp in self.policy.checkpoint_shifts:
            if cp not in seen:
                raise ValueError(f"policy.checkpoint_shifts: {cp!r} is not a checkpoint")
        return self

    def zone_of(self, spec: CheckpointSpec) -> str | None:
        if spec.zone is not None:
            return spec.zone
        by_group = f"{self.ward_id}-to{spec.group:02d}"
        return by_group if by_group in self.policy.zones else None

    def node_ids(self) -> list[str]:
        return [n for spec in self.checkpoints for n in spec.node_ids()]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def node_config_data(ward: WardConfig, spec: CheckpointSpec, node_id: str) -> dict[str, Any]:
    """The node's config as plain data, ready to dump as YAML."""
    provisioned: dict[str, Any] = {
        "node_id": node_id,
        "checkpoint_id": spec.id,
        "ward_id": ward.ward_id,
        "zone_id": ward.zone_of(spec),
        "version": ward.config_version,
        "mqtt": {
            "host": ward.broker.host,
            "port": ward.broker.port,
            "username": node_id,
            "password_credential": PASSWORD_CREDENTIAL,
            "tls": {
                "ca_file": NODE_CA_FILE,
                "cert_file": f"{NODE_CREDENTIALS}/node.pem",
                "key_file": f"{NODE_CREDENTIALS}/node.key",
            },
        },
    }
    # Defaults and overrides may add keys but never change who the node is.
    merged = _merge(_merge(provisioned, ward.node_defaults), spec.overrides)
    if merged["zone_id"] is None:
        del merged["zone_id"]  # the node config's own default
    for key in ("node_id", "checkpoint_id", "ward_id"):
        merged[key] = provisioned[key]
    merged["mqtt"]["username"] = node_id
    return merged


def check_node_configs(ward: WardConfig, source: str) -> list[dict[str, Any]]:
    """Build and validate every node's config; errors name the checkpoint and the key."""
    from checkpoint.contract.node.config import NodeConfig  # noqa: PLC0415 - the edge/hub extra

    configs: list[dict[str, Any]] = []
    # A bad node_defaults key fails on every node: report it once, with the count.
    problems: dict[tuple[str, str], list[str]] = {}
    for index, spec in enumerate(ward.checkpoints):
        for node_id in spec.node_ids():
            data = node_config_data(ward, spec, node_id)
            try:
                NodeConfig.model_validate(data)
            except ValidationError as exc:
                for err in exc.errors():
                    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
                    where = f"checkpoints.{index} (node {node_id})"
                    problems.setdefault((key, err["msg"]), []).append(where)
            else:
                configs.append(data)
    if problems:
        lines = []
        for (key, msg), places in problems.items():
            more = f" and {len(places) - 1} more node(s)" if len(places) > 1 else ""
            lines.append(
                f"{source}: {places[0]}{more}: node config key {key}: {msg} "
                "(from node_defaults or overrides)"
            )
        raise ConfigError("\n".join(lines))
    return configs
