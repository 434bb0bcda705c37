"""Errors raised while reading or checking a pass; each carries the contract Reason."""

from __future__ import annotations

from pydantic import ValidationError

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


class NoSigningKeyError(KeyStoreError):
    """No pass signing key exists yet (``checkpoint passes keygen`` makes one)."""


class BadPassRequest(CheckpointError, ValueError):
    """A request to issue or revoke a pass has a bad field; the message names it."""

    @classmethod
    def from_validation(cls, exc: ValidationError) -> BadPassRequest:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "pass"
        return cls(f"{where}: {err['msg']}")
