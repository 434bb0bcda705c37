"""The ``passes:`` section of the hub config."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from checkpoint.settings.base import StrictModel


class PassesSettings(StrictModel):
    enabled: bool = Field(default=True, description="Issue passes and publish trust documents")
    directory: Path = Field(
        default=Path("passes"),
        description="Files of `checkpoint passes` that the hub takes into its state store: "
        "keys/ (made by keygen) at every start, revoked.json once into an empty store "
        "(relative: under data_dir)",
    )
    key_credential: str | None = Field(
        default=None,
        description="Secret (at least 32 characters) that seals the private signing keys "
        "in the state store, from $CREDENTIALS_DIRECTORY; required with PostgreSQL, the "
        "same for every hub instance. SQLite without it: a random secret in "
        "passes.directory/sealing.key",
    )
    salt_credential: str | None = Field(
        default=None,
        description="The ward's salt for holder hashes, from $CREDENTIALS_DIRECTORY; "
        "without it passes carry no holder hash",
    )
    refresh_s: float = Field(
        default=3600.0,
        gt=0,
        description="Vouch for unchanged lists this often, well inside the nodes' "
        "trust.max_age_s (24 h), so that a node that hears the hub never goes stale",
    )
