"""The hub config's ``releases:`` section."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from checkpoint.passes.documents import PublicKeyText
from checkpoint.settings.base import StrictModel


class ReleasesSettings(StrictModel):
    public_key: PublicKeyText | None = Field(
        default=None,
        description="Release public key (checkpoint release keygen); uploads are refused "
        "without it and unless they verify against it",
    )
    directory: Path = Field(
        default=Path("releases"), description="Release files (relative: to data_dir)"
    )
    max_upload_bytes: int = Field(default=500_000_000, ge=1, description="Largest upload")
    step_s: float = Field(default=2.0, gt=0, le=300, description="How often rollouts advance")
