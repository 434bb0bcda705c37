"""``checkpoint install-files --dest DIR``: the systemd units, broker templates, Grafana
dashboards and install guides that ship in the package, copied into DIR."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from checkpoint.fieldfiles import install


def install_files_command(
    dest: Annotated[
        Path,
        typer.Option("--dest", help="Directory to copy into (documented: /opt/checkpoint/field)"),
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace files in DEST that differ (local edits)")
    ] = False,
) -> None:
    """Put the field files in place; the units point at this install's command and guides."""
    done = install(dest, force=force)
    typer.echo(
        f"{dest}: {len(done.written)} file(s) written, {len(done.unchanged)} already current"
    )
    typer.echo(
        f"Units: {dest / 'firmware_config' / 'systemd'} (copy to /etc/systemd/system/); "
        f"dashboards: {dest / 'dashboards'} (dashboards/README.md)"
    )
