"""The one error every InfluxDB client of the hub raises, whichever API is behind it."""

from __future__ import annotations

from checkpoint.errors import CheckpointError


class InfluxError(CheckpointError, RuntimeError):
    """InfluxDB refused or could not be reached. ``retryable`` says whether to try again."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable
