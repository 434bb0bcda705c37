"""``checkpoint release keygen|build|verify``: the signed software releases nodes install."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from checkpoint.release.manifest import CONFIG_SCHEMA_VERSION, CONTRACT_VERSION

release_app = typer.Typer(
    help="Build, sign and check node software releases.", no_args_is_help=True
)


@release_app.command("keygen")
def keygen_command(
    key: Annotated[Path, typer.Argument(help="Private key file to create (mode 600)")],
) -> None:
    """Create a release key (Ed25519, apart from the pass keys); prints its public key,
    which goes into every node's config as ``update.release_key``."""
    from greenzone.release.build import keygen  # noqa: PLC0415 - cryptography: the edge/hub extra

    typer.echo(keygen(key))


@release_app.command("build")
def build_command(
    key: Annotated[Path, typer.Option("--key", help="Release key (from release keygen)")],
    out: Annotated[Path, typer.Option("--out", help="Directory the release goes under")],
    wheel: Annotated[
        Path | None, typer.Option("--wheel", help="A built wheel (default: build from --source)")
    ] = None,
    source: Annotated[Path, typer.Option("--source", help="Project source tree")] = Path("."),
    wheelhouse: Annotated[
        Path | None, typer.Option("--wheelhouse", help="Pinned dependency wheels (pip wheel -w)")
    ] = None,
    min_config: Annotated[
        int, typer.Option(min=1, help="Oldest node config schema it runs")
    ] = CONFIG_SCHEMA_VERSION,
    min_contract: Annotated[
        int, typer.Option(min=1, help="Oldest MQTT contract it speaks")
    ] = CONTRACT_VERSION,
) -> None:
    """Sign a release: the wheel, its dependency wheels and a manifest of their hashes."""
    from greenzone.release import build  # noqa: PLC0415 - cryptography: the edge/hub extra

    signing_key = build.load_release_key(key)
    with tempfile.TemporaryDirectory() as scratch:
        built = wheel or build.build_wheel(source, Path(scratch))
        target = build.build_release(
            built,
            out,
            signing_key,
            wheelhouse=wheelhouse,
            min_config_version=min_config,
            min_contract_version=min_contract,
        )
    typer.echo(f"{target}: release {build.wheel_version(built)}")


@release_app.command("verify")
def verify_command(
    release: Annotated[Path, typer.Argument(help="Release directory")],
    public_key: Annotated[str, typer.Option("--public-key", help="Release public key text")],
) -> None:
    """Check the signature and every file's sha256; exit 1 with the reason otherwise."""
    from checkpoint.release.signing import verify_release  # noqa: PLC0415 - the edge/hub extra

    manifest = verify_release(release, public_key)
    typer.echo(
        f"{release}: release {manifest.version} verified, {len(manifest.files)} file(s), "
        f"{manifest.size} bytes"
    )
