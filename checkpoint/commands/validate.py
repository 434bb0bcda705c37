"""``checkpoint validate-config``: check node and hub files before they reach a device."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from checkpoint.errors import ConfigError


def model_for(data: Any) -> type[BaseModel]:
    """Which config a file holds: a node file names its node_id, a hub file does not."""
    if isinstance(data, dict) and "node_id" in data:
        from edge.config import NodeConfig

        return NodeConfig
    from hub.config import HubConfig

    return HubConfig


def validate_command(
    files: Annotated[list[Path], typer.Argument(help="Node or hub YAML files", exists=False)],
) -> None:
    """Validate config files; print each problem with its file and key path."""
    from checkpoint.settings.loading import read_yaml, validate_data

    failed = 0
    for path in files:
        try:
            data = read_yaml(path)
            model = model_for(data)
            validate_data(model, data, str(path))
        except ConfigError as exc:
            failed += 1
            typer.echo(str(exc), err=True)
        else:
            typer.echo(f"{path}: ok ({model.__name__})")
    if failed:
        raise ConfigError(f"{failed} of {len(files)} file(s) invalid")
