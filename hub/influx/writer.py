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


def _secret(settings: InfluxSettings) -> str | None:
    return read_secret(settings.password_credential) if settings.password_credential else None


def open_writer(settings: InfluxSettings) -> InfluxWriter:
    s = settings
    if s.api == "v2":
        return InfluxV2(s.url, s.database, org=s.org, token=_secret(s), timeout_s=s.timeout_s)
    return open_v1(s)


def open_v1(settings: InfluxSettings) -> InfluxV1:
    """The InfluxDB 1.x API client; InfluxDB 2.x/3.x answer it too (with a DBRP mapping), and
    the API's InfluxQL reads go through it whichever ``influx.api`` the writes use."""
    s = settings
    return InfluxV1(
        s.url, s.database, username=s.username, password=_secret(s), timeout_s=s.timeout_s
    )
