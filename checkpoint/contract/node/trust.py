"""The node's trust settings (a ``trust:`` section of the node config)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from checkpoint.passes.documents import PublicKeyText
from checkpoint.passes.model import KeyId
from checkpoint.passes.verifier import VerifierSettings


class TrustConfig(VerifierSettings):
    directory: Path = Field(
        default=Path("trust"),
        description="Where the last good lists are kept (relative: to the node's state dir)",
    )
    anchors: dict[KeyId, PublicKeyText] = Field(
        default_factory=dict,
        description="Hub keys that sign trust documents; empty accepts unsigned (development)",
    )
