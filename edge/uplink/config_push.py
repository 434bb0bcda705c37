"""A config pushed by the hub (retained on ``checkpoint/v1/down/<node>/config``): checked
against NodeConfig, written to disk atomically, and answered with a ConfigAck.

Checking happens before anything changes, so a refused config leaves the running one
untouched; the service rebuilds the node only from a config that passed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from checkpoint.atomic import write_atomic
from checkpoint.contract import ConfigPush, decode_model
from checkpoint.contract.node.config import NodeConfig
from checkpoint.errors import CheckpointError, ConfigError, ContractError
from checkpoint.settings.loading import validate_data

UNKNOWN_VERSION = "unknown"


class ConfigRefused(CheckpointError, ValueError):
    """A pushed config that the node will not run; ``version`` is what it claimed to be."""

    def __init__(self, version: str, message: str) -> None:
        super().__init__(message)
        self.version = version


@dataclass(frozen=True, slots=True)
class Accepted:
    version: str
    config: NodeConfig


def check_push(payload: bytes, current: NodeConfig) -> Accepted:
    """Parse and validate a push; raise ConfigRefused with the reason otherwise."""
    try:
        push = decode_model(ConfigPush, payload)
    except ContractError as exc:
        raise ConfigRefused(UNKNOWN_VERSION, f"not a config push: {exc}") from None
    # The push's version is the one the hub tracks and the node acks: it wins.
    data = {**copy.deepcopy(push.config), "version": push.version}
    _keep_outbox_path(data, current)
    try:
        config = validate_data(NodeConfig, data, f"config {push.version}")
    except ConfigError as exc:
        raise ConfigRefused(push.version, str(exc)) from None
    if config.node_id != current.node_id:
        raise ConfigRefused(
            push.version, f"config is for node {config.node_id!r}, this is {current.node_id!r}"
        )
    if config.uplink.outbox.path != current.uplink.outbox.path:
        # The outbox holds undelivered events; moving it is a technician's job.
        raise ConfigRefused(push.version, "uplink.outbox.path cannot change while running")
    return Accepted(push.version, config)


def _keep_outbox_path(data: dict[str, Any], current: NodeConfig) -> None:
    """A push that does not name the outbox file keeps the running one (the hub need not
    know where each node keeps its state); one that names another file is refused."""
    uplink = data.setdefault("uplink", {})
    if isinstance(uplink, dict):
        outbox = uplink.setdefault("outbox", {})
        if isinstance(outbox, dict):
            outbox.setdefault("path", str(current.uplink.outbox.path))


def write_atomically(path: Path, config: NodeConfig) -> None:
    """Replace ``path`` so that a power cut leaves the old file or the new, never half."""
    text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
    # 0600: a node config may carry the MQTT password.
    write_atomic(path, text.encode(), mode=0o600)
