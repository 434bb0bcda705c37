"""``checkpoint provision WARD.yaml --out DIR``: a ward's certificates, broker ACL,
the hub's and every node's config, from one ward file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from greenzone.provision.ward import load_ward


def provision_command(
    ward_file: Annotated[Path, typer.Argument(help="Ward YAML file (firmware_config/wards/)")],
    out: Annotated[
        Path, typer.Option("--out", help="Bundle directory; existing credentials are kept")
    ],
) -> None:
    """Create or extend a ward's CA, certificates, ACL, hub and node configs."""
    from greenzone.provision.bundle import provision  # noqa: PLC0415 - the edge/hub extra
    from greenzone.provision.report import summary  # noqa: PLC0415 - the edge/hub extra

    ward = load_ward(ward_file)
    bundle = provision(ward, out, source=str(ward_file))
    typer.echo(summary(ward, bundle))
