"""``checkpoint passes ...``: keys, issuing and revoking from a shell, until the hub API
offers the same. Imports only typer until a command runs."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from checkpoint.passes import qr
from checkpoint.passes.errors import BadPassRequest
from checkpoint.passes.model import Category

passes_app = typer.Typer(help="Signed passes: keys, issue, revoke.", no_args_is_help=True)

KeysDir = Annotated[Path, typer.Option("--keys", help="The hub's key directory (0700)")]
Ledger = Annotated[Path, typer.Option("--ledger", help="The revocation ledger (JSON file)")]


@passes_app.command("keygen")
def keygen_command(
    keys: KeysDir,
    key_id: Annotated[str | None, typer.Option("--id", help="Key id (default: dated)")] = None,
    anchor: Annotated[bool, typer.Option("--anchor", help="A trust-document key")] = False,
) -> None:
    """Create a pass signing key (a rotation if one exists) or an anchor key."""
    from hub.passes.keystore import KeyStore  # noqa: PLC0415 - the edge/hub extra

    store = KeyStore(keys)
    made = store.create_anchor(key_id) if anchor else store.create_key(key_id)
    typer.echo(made)


@passes_app.command("anchors")
def anchors_command(keys: KeysDir) -> None:
    """Print the anchor public keys for the nodes' ``trust.anchors`` config (JSON)."""
    from hub.passes.keystore import KeyStore  # noqa: PLC0415 - the edge/hub extra

    typer.echo(json.dumps(KeyStore(keys).anchor_public_keys(), indent=2))


@passes_app.command("issue")
def issue_command(
    *,
    keys: KeysDir,
    ledger: Ledger,
    category: Annotated[str, typer.Option(help="resident, medical, delivery, ...")],
    ward: Annotated[str, typer.Option(help="Ward id")],
    out: Annotated[Path, typer.Option(help="Writes OUT.png, OUT.svg and OUT.card.svg")],
    days: Annotated[int, typer.Option(min=1, max=366, help="Valid for this many days")] = 14,
    checkpoint: Annotated[
        list[str] | None, typer.Option(help="Limit to this checkpoint (repeatable)")
    ] = None,
    label: Annotated[str, typer.Option(help="Short display text, never a name")] = "",
) -> None:
    """Sign a pass and write its QR images and printable card."""
    from hub.passes.issuer import PassIssuer  # noqa: PLC0415 - the edge/hub extra
    from hub.passes.keystore import KeyStore  # noqa: PLC0415 - the edge/hub extra
    from hub.passes.revocations import RevocationLedger  # noqa: PLC0415 - the edge/hub extra

    try:
        kind = Category(category)
    except ValueError:
        choices = ", ".join(c.value for c in Category)
        raise BadPassRequest(f"category {category!r}: use one of {choices}") from None
    issuer = PassIssuer(KeyStore(keys), RevocationLedger(ledger))
    issued = issuer.issue(
        category=kind,
        ward_id=ward,
        valid_for=timedelta(days=days),
        checkpoints=tuple(checkpoint or ()),
        label=label,
    )
    out.with_suffix(".png").write_bytes(qr.png(issued.text))
    out.with_suffix(".svg").write_text(qr.svg(issued.text))
    out.with_suffix(".card.svg").write_text(qr.card_svg(issued.pass_, issued.text))
    typer.echo(issued.pass_.model_dump_json())


@passes_app.command("revoke")
def revoke_command(ledger: Ledger, pass_id: str) -> None:
    """Revoke a pass; publish the delta to the nodes afterwards."""
    from hub.passes.revocations import RevocationLedger  # noqa: PLC0415 - the edge/hub extra

    store = RevocationLedger(ledger)
    store.revoke(pass_id)
    typer.echo(f"revoked {pass_id}; revocations version {store.version}")
