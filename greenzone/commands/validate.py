"""``checkpoint validate-config``: check node, hub and ward files before they reach a device.

What a file is comes from its top-level ``kind:`` key (or ``--kind`` for files without
one), never from guessing at its keys: a misspelt ``node_id`` must not turn a node file
into a hub file with six misleading errors.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel

from checkpoint.contract.node.config import NodeConfig
from checkpoint.errors import ConfigError
from checkpoint.settings.loading import validate_doc
from checkpoint.settings.yamlfile import load_yaml
from greenzone.provision.ward import WardConfig, check_node_configs
from hub.config import HubConfig


class Kind(StrEnum):
    node = "node"
    hub = "hub"
    ward = "ward"


MODELS: dict[str, type[BaseModel]] = {
    Kind.node: NodeConfig,
    Kind.hub: HubConfig,
    Kind.ward: WardConfig,
}


def validate_file(path: Path, kind: Kind | None = None) -> type[BaseModel]:
    """Validate one file; ConfigError with one ``file:line:col: key: problem`` line per
    error."""
    doc = load_yaml(path)
    declared = doc.data.get("kind")
    if declared is None and kind is None:
        raise ConfigError(
            f"{path}:1:1: kind: missing: start the file with `kind: node`, `kind: hub` or "
            "`kind: ward` (or pass --kind)"
        )
    if declared is not None and declared not in tuple(Kind):
        raise ConfigError(
            f"{doc.where(('kind',))}: kind: {declared!r} is not one of node, hub, ward"
        )
    model = MODELS[str(declared or kind)]
    config = validate_doc(model, doc)
    if isinstance(config, WardConfig):
        # Every node config the ward produces must be valid too.
        check_node_configs(config, str(path), doc=doc)
    return model


def validate_command(
    files: Annotated[list[Path], typer.Argument(help="Node, hub or ward YAML files", exists=False)],
    kind: Annotated[
        Kind | None,
        typer.Option(help="What the files are, for files without a `kind:` key"),
    ] = None,
) -> None:
    """Validate config files; print one line per problem: file:line:col: key: problem."""
    failed = 0
    for path in files:
        try:
            model = validate_file(path, kind)
        except ConfigError as exc:
            failed += 1
            typer.echo(str(exc), err=True)
        else:
            typer.echo(f"{path}: ok ({model.__name__})")
    if failed:
        raise ConfigError(f"{failed} of {len(files)} file(s) invalid")
