"""Dropping passage details after the tracing retention.

The pass id of each passage is stored apart from the passage's counts, in the measurement
``passage_trace`` (hub/influx/schema.py), so that it can go while the counts stay for the
dashboards and daily reports. InfluxDB 1.x cannot drop one field of a point, and a
retention policy would need the details written through a second write request per batch;
so the hub deletes them itself: ``DELETE FROM "passage_trace" WHERE time < $cutoff``, at
start and every ``purge_every_s``. A detail therefore lives at most ``retention_days`` plus
one purge interval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hub.influx.schema import TRACE
from hub.influx.v1 import InfluxError, InfluxV1
from hub.periodic import Periodic
from hub.tracing.settings import TracingSettings

log = logging.getLogger(__name__)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def purge(influx: InfluxV1, retention_days: float, now: datetime) -> datetime:
    """Delete the passage details older than the retention; return the cutoff."""
    cutoff = now - timedelta(days=retention_days)
    influx.execute(f'DELETE FROM "{TRACE}" WHERE time < $cutoff', {"cutoff": iso(cutoff)})
    return cutoff


class TracePurger:
    """Runs ``purge`` at start and then every ``purge_every_s`` on a thread of its own."""

    def __init__(
        self,
        influx: InfluxV1,
        settings: TracingSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.influx = influx
        self.settings = settings
        self.clock = clock
        self.last_cutoff: datetime | None = None
        self._rounds = Periodic("trace-purge", settings.purge_every_s, self.run_once, at_start=True)

    def run_once(self) -> None:
        try:
            self.last_cutoff = purge(self.influx, self.settings.retention_days, self.clock())
        except InfluxError as exc:  # InfluxDB away: the next round deletes the same and more
            if "database not found" in str(exc):
                return  # a fresh hub: ingest creates it with the first batch, nothing to drop
            log.warning("passage details not purged: %s", exc)

    def start(self) -> None:
        self._rounds.start()

    def stop(self) -> None:
        self._rounds.stop()
