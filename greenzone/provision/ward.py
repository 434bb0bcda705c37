"""The ward file: one ward's broker, its checkpoints and nodes, and what their configs share.

A ward file is the single input of ``checkpoint provision``. Each node's config is built
from it (``node_config_data``): the ward's ``node_defaults``, then the checkpoint's
``overrides``, on top of what provisioning decides (ids, broker, credentials, TLS files).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from checkpoint.contract.models import Id
from checkpoint.contract.node.config import NodeConfig
from checkpoint.errors import ConfigError
from checkpoint.passes.wardpolicy import WardPolicy
from checkpoint.settings.base import StrictModel
from checkpoint.settings.fields import Host, kind_field
from checkpoint.settings.loading import describe_error, key_path, validate_doc
from checkpoint.settings.mqtt import hub_session_ids
from checkpoint.settings.yamlfile import Loc, YamlDoc, load_yaml

# Where the node's systemd unit puts its secrets (LoadCredential= in
# firmware_config/systemd/checkpoint-node.service): credentials live under
# /run/credentials/<unit>/, readable only by the service.
NODE_CREDENTIALS = "/run/credentials/checkpoint-node.service"
HUB_CREDENTIALS = "/run/credentials/checkpoint-hub.service"
# The hub's session certificates: a directory the hub unit loads whole
# (LoadCredential=mqtt:/etc/checkpoint/credentials/mqtt/), each file as mqtt_<file name>.
HUB_SESSION_DIR = "mqtt"
MAX_ACCOUNT = 64  # X.509 upper bound of a common name, which is the account (broker.py)
CA_FILE = "/etc/checkpoint/ward-ca.pem"


class BrokerEndpoint(StrictModel):
    """How nodes reach the ward's broker; the broker certificate is issued for these names."""

    host: Host = Field(default="hub.local", description="Host name nodes connect to")
    port: int = Field(default=8883, ge=1, le=65535, description="TLS listener port")
    alt_names: list[Host] = Field(
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
    kind: Literal["ward"] = kind_field("ward")
    ward_id: Id = Field(description="Ward (phuong) id; tag in InfluxDB, level in alert topics")
    name: str = Field(default="", max_length=200, description="Human name of the ward")
    config_version: str = Field(default="1", max_length=64, description="Version of node configs")
    broker: BrokerEndpoint = Field(default_factory=BrokerEndpoint)
    hub_username: Id = Field(
        default="hub",
        description="The hub's client id and MQTT user; each hub session has an account "
        "named after it (<hub_username>-priority, -api, -alerts)",
    )
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
        services = [*self.hub_accounts(), self.command_centre_username]
        clash = nodes & set(services) or set(services[:-1]) & {services[-1]}
        if clash:
            raise ValueError(f"{', '.join(sorted(clash))}: names two accounts")
        too_long = [a for a in [*services, *nodes] if len(a) > MAX_ACCOUNT]
        if too_long:
            raise ValueError(
                f"{too_long[0]}: an account name (a certificate's common name) has at most "
                f"{MAX_ACCOUNT} characters; shorten ward_id, hub_username or checkpoint ids"
            )
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

    def hub_accounts(self) -> list[str]:
        """One broker account per hub session: the broker binds client id to account."""
        return hub_session_ids(self.hub_username)

    @property
    def command_centre_username(self) -> str:
        """The account that may read this ward's alerts and nothing else."""
        return f"{self.ward_id}-command-centre"


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
        "kind": "node",
        "node_id": node_id,
        "checkpoint_id": spec.id,
        "ward_id": ward.ward_id,
        "zone_id": ward.zone_of(spec),
        "version": ward.config_version,
        "mqtt": {
            "host": ward.broker.host,
            "port": ward.broker.port,
            "username": node_id,  # the broker takes it from the certificate
            "tls": {
                "ca_file": CA_FILE,
                "cert_file": f"{NODE_CREDENTIALS}/node.pem",
                "key_file": f"{NODE_CREDENTIALS}/node.key",
            },
        },
    }
    # Defaults and overrides may add keys but never change who the node is.
    merged = _merge(_merge(provisioned, ward.node_defaults), spec.overrides)
    if merged["zone_id"] is None:
        del merged["zone_id"]  # the node config's own default
    for key in ("kind", "node_id", "checkpoint_id", "ward_id"):
        merged[key] = provisioned[key]
    merged["mqtt"]["username"] = node_id
    return merged


def _origin(spec_index: int, spec: CheckpointSpec, ward: WardConfig, loc: Loc) -> Loc:
    """Where in the ward file a node config key comes from: the checkpoint's overrides,
    else node_defaults, else the checkpoint itself (what provisioning derives from it)."""
    for base, layer in (
        (("checkpoints", spec_index, "overrides"), spec.overrides),
        (("node_defaults",), ward.node_defaults),
    ):
        node: Any = layer
        depth = 0
        for part in loc:
            if not isinstance(node, dict) or part not in node:
                break
            node, depth = node[part], depth + 1
        if depth:
            return (*base, *loc[:depth])
    return ("checkpoints", spec_index)


def check_node_configs(
    ward: WardConfig, source: str, *, doc: YamlDoc | None = None
) -> list[dict[str, Any]]:
    """Build and validate every node's config. Each error names the key of the ward file
    it comes from (with file:line:col when ``doc`` is the loaded file); a problem that
    node_defaults causes is reported once, at its key, with the checkpoints it hits."""

    doc = doc if doc is not None else YamlDoc(source, None)
    configs: list[dict[str, Any]] = []
    # (node config key, problem) -> [(checkpoint id, ward file key it comes from)]
    problems: dict[tuple[Loc, str], list[tuple[str, Loc]]] = {}
    for index, spec in enumerate(ward.checkpoints):
        for node_id in spec.node_ids():
            data = node_config_data(ward, spec, node_id)
            try:
                NodeConfig.model_validate(data)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = tuple(err["loc"])
                    where = (spec.id, _origin(index, spec, ward, loc))
                    msg = describe_error(NodeConfig, err, data)
                    problems.setdefault((loc, msg), []).append(where)
            else:
                configs.append(data)
    lines = []
    for (loc, msg), places in problems.items():
        ids = sorted({cp for cp, _ in places})
        defaults = [o for _, o in places if o[0] == "node_defaults"]
        # A checkpoint whose overrides touch the same section fails the same way: when
        # checkpoints without such overrides fail too, node_defaults is the cause.
        origins = defaults[:1] or sorted({o for _, o in places}, key=str)
        for origin in origins:
            text = msg
            if not loc or origin[-len(loc) :] != loc:
                text = f"node config {key_path(loc)}: {msg}"  # not a key of the ward file
            if origin[0] == "node_defaults":
                every = len(ids) == len(ward.checkpoints)
                text += " (every checkpoint)" if every else f" (at {', '.join(ids)})"
            named = key_path(origin, doc.data if doc.data is not None else ward.model_dump())
            lines.append(f"{doc.where(origin)}: {named}: {text}")
    if lines:
        raise ConfigError("\n".join(lines))
    return configs


def load_ward(path: Path) -> WardConfig:
    """Read and check a ward file and every node config it makes."""
    doc = load_yaml(path)
    ward = validate_doc(WardConfig, doc)
    check_node_configs(ward, str(path), doc=doc)
    return ward
