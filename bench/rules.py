"""How fast the Derivation (all rules + alert store) takes realistic batches.

Builds a ward of nodes emitting readings, passages (some fevers) and health reports,
derives them in batches the way Ingest calls it, on a SQLite state store in a temp dir,
and prints events/s and the per-batch latency. The hub must keep up with 5,000 msg/s.

    ./run bench rules [--events N] [--batch N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from checkpoint.contract import Event, Health, Passage, Reading
from checkpoint.contract.models import (
    BarrierMotion,
    Decision,
    PassCheck,
    Reason,
    TemperatureCheck,
)
from edge.events import MemoryEmitter
from hub.alerts.config import AlertsConfig
from hub.derive import AlertDerivation
from hub.rules.config import RulesConfig
from hub.state import open_store


def make_events(count: int, nodes: int) -> list[Event]:
    rng = random.Random(7)
    now = datetime.now(UTC)
    clock_box = [now]
    emitters = [
        MemoryEmitter(f"w1-cp{i:02d}-a", f"w1-cp{i:02d}", "w1", clock=lambda: clock_box[0])
        for i in range(nodes)
    ]
    out: list[Event] = []
    for i in range(count):
        clock_box[0] = now + timedelta(milliseconds=i)
        em = emitters[i % nodes]
        kind = rng.random()
        event: Any
        if kind < 0.45:
            event = em.emit(
                Reading,
                object_c=round(rng.gauss(36.5, 0.3), 2),
                ambient_c=29.0,
                samples=5,
                spread_c=0.1,
                emissivity=0.98,
            )
        elif kind < 0.95:
            fever = rng.random() < 0.002
            t2 = 38.4 if fever else None
            event = em.emit(
                Passage,
                direction="in",
                decision=Decision.REFUSE if fever else Decision.ADMIT,
                reason=Reason.FEVER if fever else Reason.OK,
                zone_level="green",
                temperature=TemperatureCheck(
                    first_c=36.5, second_c=t2, ambient_c=29.0, threshold_c=37.5, fever=fever
                ),
                pass_check=PassCheck(pass_id=f"p{i}", valid=True, reason=Reason.OK),
                barrier=BarrierMotion(opened=not fever, closed=True),
                duration_ms=2000,
            )
        else:
            event = em.emit(
                Health,
                uptime_s=100.0,
                cpu_temp_c=55.0,
                disk_free_bytes=8 * 10**9,
                outbox_depth=0,
                outbox_dropped=0,
                config_version="v1",
                software_version="0.1",
            )
        out.append(event)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=40)
    args = parser.parse_args()
    events = make_events(args.events, args.nodes)
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(f"sqlite:///{Path(tmp) / 'hub.db'}")
        derivation = AlertDerivation(engine, RulesConfig(), AlertsConfig())
        latencies = []
        start = time.perf_counter()
        for i in range(0, len(events), args.batch):
            t = time.perf_counter()
            derivation.derive(events[i : i + args.batch], [])
            latencies.append((time.perf_counter() - t) * 1000)
        elapsed = time.perf_counter() - start
        opened = derivation.open_alerts()
        engine.dispose()
    rate = len(events) / elapsed
    p50 = statistics.median(latencies)
    p99 = sorted(latencies)[int(len(latencies) * 0.99) - 1]
    print(f"{len(events)} events in {elapsed:.2f}s: {rate:,.0f} events/s")
    print(f"batch of {args.batch}: p50 {p50:.1f} ms, p99 {p99:.1f} ms; open alerts {opened}")
    print(
        json.dumps(
            {
                "derive_events_per_s": round(rate),
                "batch_p50_ms": round(p50, 1),
                "batch_p99_ms": round(p99, 1),
                "open_alerts": opened,
            }
        )
    )


if __name__ == "__main__":
    main()
