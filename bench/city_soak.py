"""City soak: the Hà Nội load against one hub, for ten minutes.

    ./run bench city_soak [--duration 600] [--checkpoints 26000] [--passages-per-hour 60]
                          [--health-interval S] [--publishers 2] [--warmup S]

Starts its own Mosquitto and InfluxDB 1.x (checkpoint.localstack) and the hub as
production runs it: ``checkpoint hub run --config HUB.yaml`` in a process of its own, with
the shipped defaults (every rule and alert on, API and /metrics served). Publisher
processes (bench/soak/publisher.py) then play every checkpoint's node at the rates of the
load model (bench/soak/model.py, printed first, and docs/scale.md): readings, passages
(some of them confirmed fevers, so alerts fire) and health reports, built with the
contract's models, QoS 1, each node with its own sequence numbers.

While it runs it samples every 5 s the hub's memory (VmRSS of the hub process and of its
``hub.ingest.receiver`` children, from /proc) and CPU, Mosquitto's and InfluxDB's too, and
all along the publish -> stored lag of the probe district's events (bench/soak/watch.py
says how). After the load it waits for the hub to drain, then counts the points in
InfluxDB, per kind and distinct event ids.

Targets: stored == published with no duplicate and nothing rejected, lag p99 under 2 s,
hub memory (hub and receivers together) growing under 10 % from the end of the warm-up to
the end of the load. The last line printed is one JSON object with every figure; the exit
code is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.soak.hubproc import HubProcess
from bench.soak.model import KINDS, LoadModel
from bench.soak.publisher import ACKED, BEHIND_MS, FEVER, PROBE, Publishers
from bench.soak.watch import LagProbe, ProcSample, metric_sum, proc_sample
from checkpoint.localstack import LocalStack
from checkpoint.localstack.process import children
from hub.config import IngestSettings
from hub.influx.v1 import InfluxV1

SAMPLE_S = 5.0
STORED = "checkpoint_hub_events_stored_total"
REJECTED = "checkpoint_hub_messages_rejected_total"
LAG_TARGET_MS = 2000.0
GROWTH_TARGET_PCT = 10.0
DRAIN_LIMIT_S = 300.0


@dataclass(frozen=True, slots=True)
class Sample:
    t: float  # seconds since the load started
    hub: ProcSample
    receivers: ProcSample  # the hub's children, summed
    mosquitto: ProcSample
    influxd: ProcSample
    bench: ProcSample  # the publishers and this process (lag probe, sampling)
    stored: float  # the hub's stored-events counter
    published: int  # PUBACKs the publishers had

    @property
    def hub_rss_kb(self) -> int:
        return self.hub.rss_kb + self.receivers.rss_kb


class Watch:
    """Samples the processes of one soak."""

    def __init__(self, hub: HubProcess, stack: LocalStack, publishers: Publishers) -> None:
        assert stack.mosquitto is not None
        assert stack.influxdb is not None
        self.hub = hub
        self.publishers = publishers
        self.pids = (stack.mosquitto.process.pid or 0, stack.influxdb.process.pid or 0)
        self.start = time.monotonic()
        self.samples: list[Sample] = []

    def take(self) -> Sample:
        none = ProcSample(0, 0.0)
        sample = Sample(
            t=time.monotonic() - self.start,
            hub=proc_sample(self.hub.pid) or none,
            receivers=summed([proc_sample(pid) for pid in children(self.hub.pid)]),
            mosquitto=proc_sample(self.pids[0]) or none,
            influxd=proc_sample(self.pids[1]) or none,
            bench=summed(
                [proc_sample(os.getpid())] + [proc_sample(p) for p in self.publishers.pids]
            ),
            stored=metric_sum(self.hub.metrics(), STORED),
            published=self.publishers.total(ACKED),
        )
        self.samples.append(sample)
        return sample


def summed(samples: list[ProcSample | None]) -> ProcSample:
    """Processes added up (a publisher that has exited counts nothing)."""
    present = [s for s in samples if s is not None]
    return ProcSample(sum(s.rss_kb for s in present), sum(s.cpu_s for s in present))


def mb(kb: int) -> float:
    return round(kb / 1024, 1)


def cpu_pct(a: ProcSample, b: ProcSample, seconds: float) -> float:
    """Percent of one core between two samples."""
    return round((b.cpu_s - a.cpu_s) / seconds * 100, 1)


def progress(prev: Sample, s: Sample, probe: LagProbe) -> str:
    dt = s.t - prev.t
    cpu = cpu_pct(prev.hub, s.hub, dt) + cpu_pct(prev.receivers, s.receivers, dt)
    return (
        f"t={s.t:4.0f}s  published {(s.published - prev.published) / dt:6,.0f}/s  "
        f"stored {(s.stored - prev.stored) / dt:6,.0f}/s  "
        f"hub RSS {mb(s.hub.rss_kb)} + receivers {mb(s.receivers.rss_kb)} MB  "
        f"hub CPU {cpu:.0f}%  lag p99 so far {probe.percentiles(0)['p99']} ms"
    )


def count_points(influx_url: str, database: str) -> dict[str, tuple[int, int]]:
    """Points and distinct event ids per kind; new fever alerts; series in the database."""
    db = InfluxV1(influx_url, database)
    out = {}
    for kind in KINDS:
        q = f'SELECT count("seq") AS n, count(distinct("event_id")) AS d FROM "{kind}"'  # noqa: S608 - our names
        rows = db.query(q)
        out[kind] = (int(rows[0]["n"]), int(rows[0]["d"])) if rows else (0, 0)
    rows = db.query(
        "SELECT count(alert_id) AS n FROM alert WHERE kind = 'fever' AND change = 'new'"
    )
    out["fever_alerts"] = (int(rows[0]["n"]) if rows else 0, 0)
    rows = db.query("SHOW SERIES EXACT CARDINALITY")
    out["series"] = (sum(int(r["count"]) for r in rows), 0)
    db.close()
    return out


def soak(args: argparse.Namespace, model: LoadModel) -> dict[str, Any]:
    """Run the stack, the hub and the load; the raw figures."""
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp, LocalStack(Path(tmp)) as stack:
        hub = HubProcess(
            Path(tmp) / "hub",
            mqtt_host=stack.mqtt_host,
            mqtt_port=stack.mqtt_port,
            influx_url=stack.influx_url,
        )
        hub.start()
        try:
            publishers = Publishers(
                stack.mqtt_host,
                stack.mqtt_port,
                model,
                parts=min(args.publishers, args.checkpoints),
                duration_s=args.duration,
                seed=args.seed,
            )
            publishers.start()
            probe = LagProbe(stack.influx_url, hub.database)
            probe.start()
            watch = Watch(hub, stack, publishers)
            watch.take()
            publishers.go()
            every = 30.0 if args.duration >= 120 else 10.0
            while (t := time.monotonic() - watch.start) < args.duration:
                time.sleep(min(SAMPLE_S, args.duration - t))
                s = watch.take()
                if int(s.t / every) > int(watch.samples[-2].t / every) or s.t >= args.duration:
                    print(progress(watch.samples[-2], s, probe), flush=True)
            publishers.join()
            published = publishers.total(ACKED)
            drain_start = time.monotonic()
            while (
                metric_sum(hub.metrics(), STORED) < published
                and time.monotonic() - drain_start < DRAIN_LIMIT_S
            ):
                time.sleep(0.2)
            drain_s = time.monotonic() - drain_start
            probe.stop()  # after one last poll
            rejected = int(metric_sum(hub.metrics(), REJECTED))
            counts = count_points(stack.influx_url, hub.database)
        finally:
            exit_code = hub.stop()  # also when the soak itself failed
    return {
        "samples": watch.samples,
        "probe": probe,
        "published": published,
        "drain_s": drain_s,
        "rejected": rejected,
        "counts": counts,
        "exit_code": exit_code,
        "publishers": publishers,
    }


def every(samples: list[Sample], step: float) -> list[Sample]:
    """The first sample at or after each ``step`` seconds of load."""
    out, mark = [], 0.0
    for s in samples:
        if s.t >= mark:
            out.append(s)
            mark = (int(s.t / step) + 1) * step
    return out


def figures(args: argparse.Namespace, model: LoadModel, raw: dict[str, Any]) -> dict[str, Any]:
    samples: list[Sample] = raw["samples"]
    first, end = samples[0], samples[-1]
    warm = next((s for s in samples if s.t >= args.warmup), end)
    growth = (end.hub_rss_kb - warm.hub_rss_kb) / warm.hub_rss_kb * 100
    seconds = end.t - first.t
    pubs: Publishers = raw["publishers"]
    counts = raw["counts"]
    sent = pubs.sent()
    stored = {k: counts[k][0] for k in KINDS}
    duplicates = sum(counts[k][0] - counts[k][1] for k in KINDS)
    lag = raw["probe"].percentiles(pubs.total(PROBE))
    f: dict[str, Any] = {
        "checkpoints": model.checkpoints,
        "wards": model.ward_count,
        "districts": model.district_count,
        "passages_per_checkpoint_hour": model.passages_per_hour,
        "health_interval_s": model.health_interval_s,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "derived_msgs_per_s": round(model.msgs_per_s(), 1),
        "published_msgs_per_s": round((end.published - first.published) / seconds, 1),
        "stored_msgs_per_s": round((end.stored - first.stored) / seconds, 1),
        "backlog_at_load_end": int(end.published - end.stored),
        "sent": sum(sent.values()),
        "published": raw["published"],
        "published_by_kind": sent,
        "stored": sum(stored.values()),
        "stored_by_kind": stored,
        "duplicates": duplicates,
        "rejected": raw["rejected"],
        "fever_passages": pubs.total(FEVER),
        "fever_alerts": counts["fever_alerts"][0],
        "influx_series": counts["series"][0],
        "drain_s": round(raw["drain_s"], 2),
        "publisher_max_behind_ms": pubs.most(BEHIND_MS),
        "lag_probe_events": pubs.total(PROBE),
        "lag_probe_seen": raw["probe"].seen,
        "lag_probe_poll_errors": raw["probe"].errors,
        "lag_p50_ms": lag["p50"],
        "lag_p99_ms": lag["p99"],
        "lag_max_ms": lag["max"],
        "lag_lookback_s": round(raw["probe"].lookback_s, 1),
        "hub_rss_start_mb": mb(first.hub.rss_kb),
        "hub_rss_warm_mb": mb(warm.hub.rss_kb),
        "hub_rss_end_mb": mb(end.hub.rss_kb),
        "receivers_rss_warm_mb": mb(warm.receivers.rss_kb),
        "receivers_rss_end_mb": mb(end.receivers.rss_kb),
        "hub_total_rss_growth_pct": round(growth, 1),
        # hub + receivers every 30 s of load, to see where memory flattens
        "hub_total_rss_mb_by_30s": [mb(s.hub_rss_kb) for s in every(samples, 30.0)],
        "hub_cpu_pct": cpu_pct(first.hub, end.hub, seconds),
        "receivers_cpu_pct": cpu_pct(first.receivers, end.receivers, seconds),
        "mosquitto_cpu_pct": cpu_pct(first.mosquitto, end.mosquitto, seconds),
        "influxd_cpu_pct": cpu_pct(first.influxd, end.influxd, seconds),
        "bench_cpu_pct": cpu_pct(first.bench, end.bench, seconds),
        "mosquitto_rss_end_mb": mb(end.mosquitto.rss_kb),
        "influxd_rss_end_mb": mb(end.influxd.rss_kb),
        "hub_exit_code": raw["exit_code"],
    }
    f["stored_equals_published"] = f["stored"] == f["published"] == f["sent"]
    f["lag_ok"] = lag["p99"] is not None and lag["p99"] < LAG_TARGET_MS
    f["memory_ok"] = growth < GROWTH_TARGET_PCT
    f["ok"] = bool(
        f["stored_equals_published"]
        and duplicates == 0
        and f["rejected"] == 0
        and f["lag_ok"]
        and f["memory_ok"]
    )
    return f


def parse_args() -> argparse.Namespace:
    model = LoadModel()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    ap.add_argument("--checkpoints", type=int, default=model.checkpoints)
    ap.add_argument("--passages-per-hour", type=float, default=model.passages_per_hour)
    ap.add_argument("--health-interval", type=float, default=model.health_interval_s)
    ap.add_argument("--publishers", type=int, default=2, help="publisher processes")
    ap.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds of load before the memory baseline (default 60, or a third of a shorter run)",
    )
    ap.add_argument("--seed", type=int, default=2021)
    args = ap.parse_args()
    if min(args.checkpoints, args.passages_per_hour, args.health_interval, args.publishers) <= 0:
        ap.error("--checkpoints, --passages-per-hour, --health-interval, --publishers: > 0")
    return args


def default_warmup(duration_s: float, model: LoadModel) -> float:
    """Long enough for the hub's memories that fill with the load rather than with time:
    every node seen once (a health period) and ``ingest.recent_ids`` event ids held."""
    fill = max(model.health_interval_s, IngestSettings().recent_ids / model.msgs_per_s())
    return round(min(fill, duration_s / 2), 1)


def ms(value: float | None, f: dict[str, Any]) -> str:
    return f"> {f['lag_lookback_s'] * 1000:.0f} ms" if value is None else f"{value:.0f} ms"


def main() -> int:
    args = parse_args()
    model = LoadModel(
        checkpoints=args.checkpoints,
        passages_per_hour=args.passages_per_hour,
        health_interval_s=args.health_interval,
    )
    if args.warmup is None:
        args.warmup = default_warmup(args.duration, model)
    for line in model.describe():
        print(line)
    print(
        f"derived load: {model.msgs_per_s():,.0f} msg/s for {args.duration:g} s "
        f"(memory baseline after {args.warmup:g} s)",
        flush=True,
    )
    f = figures(args, model, soak(args, model))
    print(
        f"stored {f['stored']:,} of {f['published']:,} published ({f['duplicates']} "
        f"duplicates, {f['rejected']} rejected), drained in {f['drain_s']} s\n"
        f"lag p50 {ms(f['lag_p50_ms'], f)}, p99 {ms(f['lag_p99_ms'], f)} (target < "
        f"{LAG_TARGET_MS:.0f}; {f['lag_probe_seen']:,} of {f['lag_probe_events']:,} probe "
        f"events seen)\nhub memory {f['hub_rss_warm_mb'] + f['receivers_rss_warm_mb']:.1f} -> "
        f"{f['hub_rss_end_mb'] + f['receivers_rss_end_mb']:.1f} MB after warm-up "
        f"({f['hub_total_rss_growth_pct']:+.1f} %, target < {GROWTH_TARGET_PCT:.0f} %)\n"
        f"{f['fever_alerts']} fever alerts from {f['fever_passages']} fever passages"
    )
    print(json.dumps(f))
    return 0 if f["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
