"""Errors raised while reading or checking a pass; each carries the contract Reason."""

from __future__ import annotations

from checkpoint.contract.models import Reason
from checkpoint.errors import CheckpointError


class PassError(CheckpointError, ValueError):
    """A pass text could not be read or trusted; ``reason`` is what the volunteer is shown."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class KeyStoreError(CheckpointError, OSError):
    """The hub's signing keys are missing, unreadable or unsafe on disk."""
