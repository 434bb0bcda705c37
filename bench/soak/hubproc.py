"""The hub as production runs it: ``checkpoint hub run --config HUB.yaml``, its own process.

The config is the shipped defaults (batches, receive maximum, every rule and alert, the API
and /metrics) with only the addresses filled in, so the soak measures the hub as installed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from bench.soak.watch import metric_sum, scrape
from checkpoint.localstack.process import free_port

BIN = str(Path(sys.executable).with_name("checkpoint"))


class HubProcess:
    def __init__(self, directory: Path, *, mqtt_host: str, mqtt_port: int, influx_url: str):
        directory.mkdir(parents=True, exist_ok=True)
        self.metrics_port = free_port()
        self.database = "city"
        config: dict[str, Any] = {
            "client_id": "city-hub",
            "data_dir": str(directory / "data"),
            "mqtt": {"host": mqtt_host, "port": mqtt_port},
            "influx": {"url": influx_url, "database": self.database},
            "metrics": {"port": self.metrics_port},
            "api": {"port": free_port()},
        }
        self.config = directory / "hub.yaml"
        self.config.write_text(yaml.safe_dump(config))
        self.log = directory / "hub.log"
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout_s: float = 120.0) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [BIN, "hub", "run", "--config", str(self.config)], stdout=out, stderr=out
            )
        deadline = time.monotonic() + timeout_s
        while metric_sum(self.metrics(), "checkpoint_hub_connected") < 1:
            if time.monotonic() > deadline:
                raise RuntimeError(f"hub not up: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def metrics(self) -> str:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"hub exited: {self.log.read_text()[-2000:]}")
        return scrape(self.metrics_url)

    def stop(self, timeout_s: float = 60.0) -> int | None:
        """SIGTERM, as systemd stops it; its exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
