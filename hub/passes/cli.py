"""``checkpoint passes ...``: keys, issuing and revoking from a shell, until the hub API
offers the same. Imports only typer until a command runs."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict, Field

from checkpoint.contract.models import Id
from checkpoint.passes import qr
from checkpoint.passes.errors import BadPassRequest
from checkpoint.passes.model import Category
from checkpoint.settings.loading import load_model

passes_app = typer.Typer(help="Signed passes: keys, issue, revoke.", no_args_is_help=True)


class WardName(BaseModel):
    """What a card takes from a ward file: its id and full name. The rest of the file is
    provisioning's, which the hub does not import (it sits above the hub)."""

    model_config = ConfigDict(extra="ignore")
    ward_id: Id
    name: str = Field(default="", max_length=200)


KeysDir = Annotated[Path, typer.Option("--keys", help="The hub's key directory (0700)")]
Ledger = Annotated[Path, typer.Option("--ledger", help="The revocation ledger (JSON file)")]


@passes_app.command("keygen")
def keygen_command(
    keys: KeysDir,
    key_id: Annotated[str | None, typer.Option("--id", help="Key id (default: dated)")] = None,
    anchor: Annotated[bool, typer.Option("--anchor", help="A trust-document key")] = False,
) -> None:
    """Create a pass signing key (a rotation if one exists) or an anchor key."""
    from hub.passes.keystore import KeyStore  # noqa: PLC0415 - the hub extra

    store = KeyStore(keys)
    made = store.create_anchor(key_id) if anchor else store.create_key(key_id)
    typer.echo(made)


@passes_app.command("anchors")
def anchors_command(keys: KeysDir) -> None:
    """Print the anchor public keys for the nodes' ``trust.anchors`` config (JSON)."""
    from hub.passes.keystore import KeyStore  # noqa: PLC0415 - the hub extra

    typer.echo(json.dumps(KeyStore(keys).anchor_public_keys(), indent=2))


@passes_app.command("issue")
def issue_command(
    *,
    keys: KeysDir,
    ledger: Ledger,
    category: Annotated[str, typer.Option(help="resident, medical, delivery, ...")],
    out: Annotated[
        Path, typer.Option(help="Writes OUT.png and OUT.svg (the QR), OUT.card.pdf, OUT.card.png")
    ],
    ward: Annotated[str | None, typer.Option(help="Ward id (default: the ward file's)")] = None,
    ward_file: Annotated[
        Path | None,
        typer.Option(help="The ward file: its name is printed on the card"),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="The hub config: its wards.<ward>.name is printed"),
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="Valid for this many days")] = 14,
    checkpoint: Annotated[
        list[str] | None, typer.Option(help="Limit to this checkpoint (repeatable)")
    ] = None,
    label: Annotated[str, typer.Option(help="Short display text, never a name")] = "",
) -> None:
    """Sign a pass and write its QR images and printable card (PDF and PNG, 85.6 x 54 mm)."""
    from hub.config import HubConfig  # noqa: PLC0415 - the hub extra
    from hub.passes import card  # noqa: PLC0415 - the hub extra
    from hub.passes.issuer import PassIssuer  # noqa: PLC0415 - the hub extra
    from hub.passes.keystore import KeyStore  # noqa: PLC0415 - the hub extra
    from hub.passes.revocations import RevocationLedger  # noqa: PLC0415 - the hub extra
    from hub.wards import ward_name  # noqa: PLC0415 - the hub extra

    try:
        kind = Category(category)
    except ValueError:
        choices = ", ".join(c.value for c in Category)
        raise BadPassRequest(f"category {category!r}: use one of {choices}") from None
    name = ""
    if ward_file is not None:
        ward_config = load_model(WardName, ward_file)
        if ward is not None and ward != ward_config.ward_id:
            raise BadPassRequest(f"--ward {ward} but {ward_file} is ward {ward_config.ward_id}")
        ward, name = ward_config.ward_id, ward_config.name
    if ward is None:
        raise BadPassRequest("say which ward: --ward ID or --ward-file WARD.yaml")
    if config is not None:
        name = ward_name(load_model(HubConfig, config).wards, ward) or name
    ledger_store = RevocationLedger(ledger)
    issuer = PassIssuer(KeyStore(keys), ledger_store)
    issued = issuer.issue(
        category=kind,
        ward_id=ward,
        valid_for=timedelta(days=days),
        checkpoints=tuple(checkpoint or ()),
        label=label,
    )
    out.with_suffix(".png").write_bytes(qr.png(issued.text))
    out.with_suffix(".svg").write_text(qr.svg(issued.text))
    layout = card.layout(issued.pass_, issued.text, ward_name=name)
    out.with_suffix(".card.pdf").write_bytes(card.pdf(layout))
    out.with_suffix(".card.png").write_bytes(card.png(layout))
    ledger_store.record_issued(issued.pass_.pass_id, issued.pass_.valid_until)
    typer.echo(issued.pass_.model_dump_json())


@passes_app.command("revoke")
def revoke_command(
    ledger: Ledger,
    pass_id: str,
    force: Annotated[
        bool,
        typer.Option(help="Revoke an id this ledger has no record of (a pass issued elsewhere)"),
    ] = False,
) -> None:
    """Revoke a pass issued with this ledger; publish the delta to the nodes afterwards."""
    from hub.passes.revocations import RevocationLedger  # noqa: PLC0415 - the hub extra

    store = RevocationLedger(ledger)
    if not force and not store.was_issued(pass_id):
        raise BadPassRequest(
            f"no pass {pass_id!r} was issued with {ledger}, or it has expired (a typo?); "
            "--force revokes it anyway"
        )
    store.revoke(pass_id)
    typer.echo(f"revoked {pass_id}; revocations version {store.version}")
