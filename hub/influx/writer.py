"""The one interface the hub writes every point through (ingest's events, alert changes),
whichever InfluxDB version is behind it.

``influx.api`` in the hub config picks the implementation: ``v1`` (InfluxDB 1.x HTTP API,
what Debian and Raspberry Pi OS install) or ``v2`` (InfluxDB 2.x/3.x through
``influxdb-client``). Both take the same line protocol (hub/influx/schema.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from checkpoint.settings.secrets import read_secret
from hub.config import InfluxSettings
from hub.influx.errors import InfluxError
from hub.influx.v1 import InfluxV1
from hub.influx.v2 import InfluxV2

__all__ = ["InfluxError", "InfluxWriter", "open_writer"]


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
        return InfluxV2(
            settings.url,
            settings.database,
            org=settings.org,
            token=secret,
            timeout_s=settings.timeout_s,
        )
    return InfluxV1(
        settings.url,
        settings.database,
        username=settings.username,
        password=secret,
        timeout_s=settings.timeout_s,
    )
