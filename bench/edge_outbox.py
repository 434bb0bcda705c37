"""Outbox and uplink throughput, and the node's resident memory.

    ./run bench edge_outbox [--events N]

Targets: durable append >= 5,000 events/s and drain >= 5,000 events/s to a local broker
(issue 3); node resident memory <= 60 MB (issue 18: a Pi Zero 2 W has 512 MB). Appends are
measured from one thread (each emit waits for its own fsync) and from four (the node's
threads share fsyncs: group commit). The drain runs with the rate limit lifted to the
target, against a real Mosquitto.

The resident memory is this process's after the appends and the drain, with every module
`checkpoint edge run` imports loaded. It leaves out the camera stack (picamera2 and the
numpy it brings, from Raspberry Pi OS), which only a node with a camera loads and this
machine does not have. Prints its figures, then one JSON line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from checkpoint.contract import Passage
from checkpoint.contract.node.uplink import LinkSettings, OutboxSettings
from checkpoint.localstack import Mosquitto
from checkpoint.settings.mqtt import MqttSettings
from edge.uplink.link import Link
from edge.uplink.outbox import Outbox

# What `checkpoint edge run` imports: the command line, the edge part's commands, what its
# run command imports (edge/cli.py), which brings the node and gpiozero, and the I2C
# driver that the node imports when it opens its thermometer's bus.
NODE_MODULES = (
    "greenzone.cli",
    "edge.cli",
    "checkpoint.contract.node.config",
    "edge.service",
    "edge.update.layout",
    "smbus2",
)

PASSAGE = {
    "direction": "in",
    "decision": "admit",
    "reason": "ok",
    "zone_level": "green",
    "temperature": {"first_c": 36.4, "ambient_c": 29.0, "threshold_c": 37.5, "fever": False},
    "pass_check": {"pass_id": "p-0192", "valid": True, "reason": "ok"},
    "barrier": {"opened": True, "open_s": 1.2, "closed": True},
    "duration_ms": 2400,
}


def open_outbox(path: Path) -> Outbox:
    return Outbox(path, node_id="bench-n1", checkpoint_id="bench", ward_id="w1", max_bytes=10**9)


def append_rate(outbox: Outbox, events: int, threads: int) -> float:
    def work() -> None:
        for _ in range(events // threads):
            outbox.emit(Passage, **PASSAGE)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    began = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return (events // threads * threads) / (time.perf_counter() - began)


def fsync_rate(directory: Path, seconds: float = 1.0) -> float:
    """What the disk allows: one-byte appends, each fsynced. Durable appends from one
    thread cannot beat this; it shows how much of the gap is the machine."""
    count = 0
    with (directory / "fsync-probe").open("ab") as f:
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            f.write(b"x")
            f.flush()
            os.fsync(f.fileno())
            count += 1
        return count / (time.perf_counter() - began)


def drain_rate(outbox: Outbox, broker: Mosquitto, window: int) -> tuple[float, float]:
    backlog = outbox.depth
    link = Link(
        "bench-n1",
        MqttSettings(host=broker.host, port=broker.port),
        outbox,
        drain=OutboxSettings(window=window, rate_per_s=1e9, burst=1000),
        link=LinkSettings(backoff_min_s=0.1, backoff_max_s=0.5),
    )
    began, cpu_began = time.perf_counter(), time.process_time()
    link.start()
    while outbox.depth:
        time.sleep(0.01)
    took, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    link.stop()
    return backlog / took, backlog / cpu


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=OutboxSettings().window)
    args = parser.parse_args()
    for module in NODE_MODULES:
        importlib.import_module(module)

    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as tmp:
        work = Path(tmp)
        fsyncs = fsync_rate(work)
        print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"disk fsyncs:               {fsyncs:8.0f} /s (one thread's ceiling)")
        outbox = open_outbox(work / "outbox.sqlite")
        one = append_rate(outbox, min(args.events, 5000), 1)
        four = append_rate(outbox, args.events, 4)
        print(f"durable append, 1 thread:  {one:8.0f} events/s")
        print(f"durable append, 4 threads: {four:8.0f} events/s (group commit)")
        broker = Mosquitto(work / "mosquitto")
        broker.start()
        try:
            backlog = outbox.depth
            drain, drain_cpu = drain_rate(outbox, broker, args.window)
        finally:
            broker.stop()
        print(f"drain of {backlog} events to Mosquitto: {drain:8.0f} events/s")
        print(f"  per CPU-second of the node process: {drain_cpu:8.0f} events")
        rss = rss_mb()
        print(f"resident memory: {rss:.1f} MB (what `checkpoint edge run` loads, no camera)")
        outbox.close()
    result = {
        "bench": "edge_outbox",
        "append_1_thread_per_s": round(one),
        "append_4_threads_per_s": round(four),
        "drain_per_s": round(drain),
        "drain_per_cpu_s": round(drain_cpu),
        "fsync_per_s": round(fsyncs),
        "load_average": round(os.getloadavg()[0], 1),
        "rss_mb": round(rss, 1),
        "ok": max(one, four) >= 5000 and drain >= 5000 and rss <= 60,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
