"""The one interface ingest writes through, whichever InfluxDB version is behind it.

``influx.api`` in the hub config picks the implementation: ``v1`` (InfluxDB 1.x HTTP API,
what Debian and Raspberry Pi OS install) or ``v2`` (InfluxDB 2.x/3.x through
``influxdb-client``). Both take the same line protocol (hub/influx/schema.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from checkpoint.errors import CheckpointError
from checkpoint.settings.secrets import read_secret
from hub.config import InfluxSettings


class InfluxError(CheckpointError, RuntimeError):
    """InfluxDB refused or could not be reached. ``retryable`` says whether to try again."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class InfluxWriter(Protocol):
    """Durable batch writes: when ``write_lines`` returns, the server has the points."""

    url: str

    def create_database(self) -> None:
        """Make sure the target database / bucket exists (where the API allows it)."""

    def write_lines(self, lines: Sequence[str]) -> None:
        """Write one batch of line protocol at nanosecond precision; raise InfluxError."""

    def close(self) -> None: ...


def open_writer(settings: InfluxSettings) -> InfluxWriter:
    secret = read_secret(settings.password_credential) if settings.password_credential else None
    if settings.api == "v2":
        from hub.influx.v2 import InfluxV2

        return InfluxV2(
            settings.url,
            settings.database,
            org=settings.org,
            token=secret,
            timeout_s=settings.timeout_s,
        )
    from hub.influx.v1 import InfluxV1

    return InfluxV1(
        settings.url,
        settings.database,
        username=settings.username,
        password=secret,
        timeout_s=settings.timeout_s,
    )
