"""The node's trust settings (a ``trust:`` section of the node config)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from checkpoint.passes.documents import PublicKeyText
from checkpoint.passes.model import KeyId
from checkpoint.settings.base import StrictModel


class VerifierSettings(StrictModel):
    max_age_s: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="Lists older than this are stale: the fallback policy applies",
    )
    clock_skew_s: float = Field(
        default=120.0, ge=0, description="Tolerance for a node clock behind the hub's"
    )


class TrustConfig(VerifierSettings):
    directory: Path = Field(
        default=Path("trust"),
        description="Where the last good lists are kept (relative: to the node's state dir)",
    )
    anchors: dict[KeyId, PublicKeyText] = Field(
        default_factory=dict,
        description="Hub keys that sign trust documents; empty accepts unsigned (development)",
    )
