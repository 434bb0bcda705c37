"""``checkpoint provision WARD.yaml --out DIR``: a ward's certificates, broker users and ACL,
and every node's config, from one ward file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def provision_command(
    ward_file: Annotated[Path, typer.Argument(help="Ward YAML file (firmware_config/wards/)")],
    out: Annotated[
        Path, typer.Option("--out", help="Bundle directory; existing credentials are kept")
    ],
) -> None:
    """Create or extend a ward's CA, certificates, passwords, ACL and node configs."""
    from checkpoint.provision.bundle import provision
    from checkpoint.provision.ward import load_ward

    ward = load_ward(ward_file)
    bundle = provision(ward, out, source=str(ward_file))
    typer.echo(
        f"{out}: ward {ward.ward_id}, {len(bundle.nodes)} node(s), "
        f"{len(bundle.created)} new credential(s); broker files in {out / 'broker'}"
    )
