"""What the soak watches while it runs: processes in /proc, and the lag probe.

Lag (publish -> stored) is measured on the probe district's events (about one in 30 of
every kind), in InfluxDB itself rather than from what the hub says: a thread asks InfluxDB
for the probe district's points of the last ``lookback`` seconds and, for each point it has
not seen before, takes the time that query returned minus the point's time. The point's
time is the event's ``ts`` to the millisecond (docs/influx-schema.md), and the publisher
sets ``ts`` to the wall time just before it publishes, on the same clock. So each figure is
an upper bound on that event's publish -> queryable lag, too high by at most one poll
interval plus a query.

The lookback follows the lag: twice the longest lag seen so far plus 5 s, at least 10 s
(so a hub that falls behind is still measured, not lost from view), and the poll interval
is a 40th of it, at least 0.25 s: one query a poll, about 40 s worth of probe points a
second whatever the lag, on a tag index. A probe event never seen counts as a lag beyond
the lookback (an infinite one in the percentiles).
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.soak.model import PROBE_PREFIX
from hub.influx.v1 import InfluxV1

POLL_S = 0.25  # the shortest poll interval
LOOKBACK_S = 10.0  # the shortest lookback
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcSample:
    rss_kb: int
    cpu_s: float


def proc_sample(pid: int) -> ProcSample | None:
    """VmRSS and user + system CPU seconds of one process; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    # Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    fields = stat.rsplit(")", 1)[1].split()
    return ProcSample(
        int(found.group(1)) if found else 0, (int(fields[11]) + int(fields[12])) / TICKS
    )


def metric_sum(text: str, name: str) -> float:
    """Sum of a Prometheus metric's samples over its labels."""
    pattern = rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$"
    return sum(float(v) for v in re.findall(pattern, text, re.MULTILINE))


def scrape(url: str) -> str:
    try:
        return httpx.get(url, timeout=5).text
    except httpx.HTTPError:
        return ""


class LagProbe:
    """Polls InfluxDB for the probe district's points; see the module docstring."""

    QUERY = (
        "SELECT event_id FROM reading, passage, health "  # noqa: S608 - our constant, no input
        f"WHERE ward =~ /^{PROBE_PREFIX}/ AND time > $since"
    )

    def __init__(self, influx_url: str, database: str) -> None:
        self.db = InfluxV1(influx_url, database)
        self.lags: list[float] = []
        self.errors = 0
        self.longest = 0.0
        self._seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lag-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop polling after one last poll (call it once everything is stored)."""
        self._stop.set()
        self._thread.join()
        self._poll()
        self.db.close()

    @property
    def lookback_s(self) -> float:
        return min(600.0, max(LOOKBACK_S, 2 * self.longest + 5))

    def _run(self) -> None:
        while not self._stop.wait(max(POLL_S, self.lookback_s / 40)):
            self._poll()

    def _poll(self) -> None:
        since = time.time_ns() - int(self.lookback_s * 1e9)
        try:
            rows = self.db.query(self.QUERY, {"since": since})
        except Exception:  # noqa: BLE001 - a failed poll is counted; the next one retries
            self.errors += 1
            return
        returned = time.time()
        for row in rows:
            if row["event_id"] in self._seen:
                continue
            self._seen.add(row["event_id"])
            lag = returned - (row["time"] // 1_000_000) / 1000
            self.lags.append(lag)
            self.longest = max(self.longest, lag)

    @property
    def seen(self) -> int:
        return len(self._seen)

    def percentiles(self, published: int) -> dict[str, float | None]:
        """p50, p99 and max in ms over every probe event published; the ones never seen
        count as beyond the lookback (infinite)."""
        values = sorted(self.lags) + [math.inf] * max(0, published - len(self.lags))
        if not values:
            return {"p50": None, "p99": None, "max": None}

        def at(q: float) -> float | None:
            v = values[min(len(values) - 1, math.ceil(q * len(values)) - 1)]
            return None if math.isinf(v) else round(v * 1000, 1)

        return {"p50": at(0.50), "p99": at(0.99), "max": at(1.0)}
