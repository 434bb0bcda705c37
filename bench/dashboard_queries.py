"""How fast InfluxDB 1.x answers every dashboard query for a whole ward's day.

Phuc La scale: 40 checkpoints (41 nodes), 24 hours of health every minute, passages and
readings, built with the contract models and written through the hub's schema into a real
InfluxDB started for the run. Each panel query runs with its template variables substituted
over the dashboard's range (the last 6 hours) and over 24 hours. The command centre
refreshes every minute, so each dashboard's queries together should stay well under a
second.

    ./run bench dashboard_queries [--checkpoints N] [--hours H]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.field.ward_traffic

import httpx

from checkpoint.localstack.influxdb import InfluxDB1
from hub.dashboards import all_dashboards
from hub.influx.v1 import InfluxV1
from tests.field import ward_traffic
from tests.field.test_dashboards import substitute

# Grafana's $__interval: the range over the panel's data points (~1000), rounded up to a
# readable step, never below the panel's minimum interval.
_STEPS = (
    ("10s", 10),
    ("30s", 30),
    ("1m", 60),
    ("2m", 120),
    ("5m", 300),
    ("10m", 600),
    ("15m", 900),
    ("30m", 1800),
    ("1h", 3600),
)


def grafana_interval(range_s: float, minimum: str) -> str:
    floor = dict(_STEPS).get(minimum, 0)
    wanted = max(range_s / 1000, floor)
    return next((name for name, secs in _STEPS if secs >= wanted), "1h")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoints", type=int, default=40)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        server = InfluxDB1(Path(scratch))
        server.start()
        try:
            client = InfluxV1(server.url, "bench")
            client.create_database()
            t0 = time.perf_counter()
            data = ward_traffic.fill(
                client, "dashward", checkpoints=args.checkpoints, hours=args.hours
            )
            fill_s = time.perf_counter() - t0
            print(f"{len(data.lines)} points written in {fill_s:.1f} s")
            results = {}
            http = httpx.Client(base_url=server.url)  # keep-alive, as Grafana does
            for hours in sorted({min(6, args.hours), args.hours}):
                label = f"{hours}h"
                data.start = data.end - timedelta(hours=hours)
                per_board = {}
                slowest: list[tuple[float, str]] = []
                for board in all_dashboards():
                    total = 0.0
                    for panel in board.panels:
                        for target in panel.targets:
                            interval = grafana_interval(hours * 3600, panel.interval)
                            q = substitute(target.query, data, interval)
                            times = []
                            for _ in range(args.repeat):
                                start = time.perf_counter()
                                http.get(
                                    "/query", params={"db": "bench", "q": q}
                                ).raise_for_status()
                                times.append(time.perf_counter() - start)
                            total += statistics.median(times)
                            slowest.append((statistics.median(times), panel.title))
                    per_board[board.uid] = round(total * 1000, 1)
                    print(f"{label:>4} {board.uid:<20} all queries: {total * 1000:7.1f} ms")
                results[label] = per_board
                for secs, title in sorted(slowest, reverse=True)[:3]:
                    print(f"{label:>4}   slowest: {secs * 1000:6.1f} ms  {title}")
            http.close()
            client.close()
        finally:
            server.stop()
    print(
        json.dumps(
            {
                "bench": "dashboard_queries",
                "checkpoints": args.checkpoints,
                "hours": args.hours,
                "points": len(data.lines),
                "fill_s": round(fill_s, 1),
                "dashboard_ms": results,
            }
        )
    )


if __name__ == "__main__":
    main()
