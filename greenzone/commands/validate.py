"""``checkpoint validate-config``: check node, hub and ward files before they reach a device."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from checkpoint.errors import ConfigError
from checkpoint.settings.loading import read_yaml, validate_data
from greenzone.provision.ward import WardConfig, check_node_configs
from hub.config import HubConfig


def model_for(data: Any) -> type[BaseModel]:
    """Which config a file holds: a ward file lists checkpoints, a node file names its
    node_id, a hub file does neither."""
    if isinstance(data, dict) and "checkpoints" in data:
        return WardConfig
    if isinstance(data, dict) and "node_id" in data:
        from checkpoint.contract.node.config import NodeConfig  # noqa: PLC0415 - the edge/hub extra

        return NodeConfig

    return HubConfig


def validate_file(path: Path) -> type[BaseModel]:
    """Validate one file; raise ConfigError naming the file, the key path and the problem."""

    data = read_yaml(path)
    model = model_for(data)
    config = validate_data(model, data, str(path))
    if isinstance(config, WardConfig):
        # Every node config the ward produces must be valid too.
        check_node_configs(config, str(path))
    return model


def validate_command(
    files: Annotated[list[Path], typer.Argument(help="Node, hub or ward YAML files", exists=False)],
) -> None:
    """Validate config files; print each problem with its file and key path."""
    failed = 0
    for path in files:
        try:
            model = validate_file(path)
        except ConfigError as exc:
            failed += 1
            typer.echo(str(exc), err=True)
        else:
            typer.echo(f"{path}: ok ({model.__name__})")
    if failed:
        raise ConfigError(f"{failed} of {len(files)} file(s) invalid")
