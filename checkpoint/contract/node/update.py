"""The node config's ``update:`` section: where releases come from and how they install."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from checkpoint.passes.documents import PublicKeyText
from checkpoint.settings.base import StrictModel


class UpdateConfig(StrictModel):
    enabled: bool = Field(default=False, description="Install releases the hub asks for")
    hub_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="The hub API the node downloads releases from (http(s)://host:port)",
    )
    release_key: PublicKeyText | None = Field(
        default=None, description="Release public key (checkpoint release keygen); not a pass key"
    )
    root: Path = Field(
        default=Path("/opt/checkpoint"),
        description="Holds releases/<version>/ and the 'current' symlink systemd runs",
    )
    gate_timeout_s: float = Field(
        default=120.0, gt=0, le=3600, description="A new version must pass its gate in this time"
    )
    min_free_bytes: int = Field(
        default=200_000_000,
        ge=0,
        description="Free disk to keep after download and install; refused below it",
    )
    install_factor: float = Field(
        default=4.0, ge=1, description="Disk an install takes, as a multiple of the download"
    )
    system_site_packages: bool = Field(
        default=True, description="Venvs see the system's packages (picamera2 comes from apt)"
    )
    inherit_site: Path | None = Field(
        default=None,
        description="A site-packages dir new venvs also see, after their own (test setups "
        "without a wheelhouse); leave unset in the field",
    )

    @model_validator(mode="after")
    def _complete(self) -> UpdateConfig:
        if self.enabled and (self.hub_url is None or self.release_key is None):
            raise ValueError("update.enabled needs update.hub_url and update.release_key")
        return self
