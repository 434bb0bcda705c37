"""``checkpoint hub run`` as a real process, for tests that kill it (-9, SIGTERM) and
start it again: the hub's own entry point, config file and /metrics, nothing in-process.

Shared by tests/hub/ and the reliability scenarios; the ``hub_process`` fixture
(tests/conftest.py) gives one against the session's broker and InfluxDB.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from checkpoint.localstack.process import free_port
from checkpoint.settings.mqtt import MqttSettings
from hub.influx.v1 import InfluxV1
from tests.helpers import wait_for

BIN = str(Path(sys.executable).with_name("checkpoint"))
# Batches by time, not size: at test rates a kill lands while a batch is pending.
TIME_BATCHES = {"max_points": 5000, "receive_maximum": 5000, "max_interval_s": 1.0}


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


class HubProcess:
    def __init__(self, config: Path, metrics_port: int, log: Path) -> None:
        self.config = config
        self.url = f"http://127.0.0.1:{metrics_port}/metrics"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.api_url = ""

    @classmethod
    def configured(
        cls,
        directory: Path,
        *,
        client_id: str,
        mqtt: MqttSettings,
        influx: InfluxV1,
        **extra: Any,
    ) -> HubProcess:
        """Write a hub config into ``directory`` (data, log and YAML all there) with free
        metrics and API ports; ``extra`` adds or replaces top-level config keys."""
        directory.mkdir(parents=True, exist_ok=True)
        port, api_port = free_port(), free_port()
        config: dict[str, Any] = {
            "client_id": client_id,
            "data_dir": str(directory / "data"),
            "mqtt": {"host": mqtt.host, "port": mqtt.port},
            "influx": {"url": influx.url, "database": influx.database},
            "metrics": {"port": port},
            "api": {"port": api_port},
            **extra,
        }
        path = directory / "hub.yaml"
        path.write_text(yaml.safe_dump(config))
        hub = cls(path, port, directory / "hub.log")
        hub.api_url = f"http://127.0.0.1:{api_port}"
        return hub

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        self.launch()
        self.wait_up()

    def launch(self) -> None:
        """Start the process without waiting: several hubs start faster side by side
        (most of a start is Python importing the hub, seconds on a loaded machine)."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [BIN, "hub", "run", "--config", str(self.config)], stdout=out, stderr=out
            )

    def wait_up(self) -> None:
        wait_for(lambda: self.value("checkpoint_hub_connected") == 1, timeout_s=60, what="hub up")
        # Ingest connects before the API is served: a test's first request must not race it.
        if self.api_url and self._serves_api():
            wait_for(self._api_answers, timeout_s=30, what="the hub's API")

    def _serves_api(self) -> bool:
        api = yaml.safe_load(self.config.read_text()).get("api") or {}
        return bool(api.get("enabled", True))

    def _api_answers(self) -> bool:
        self.metrics()  # fails at once if the hub exited
        try:
            httpx.get(f"{self.api_url}/healthz", timeout=2)
        except httpx.HTTPError:
            return False
        return True

    def metrics(self) -> str:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"hub exited: {self.log.read_text()[-2000:]}")
        try:
            return httpx.get(self.url, timeout=2).text
        except httpx.HTTPError:
            return ""

    def value(self, name: str) -> float:
        return metric(self.metrics(), name)

    def signal(self, sig: int) -> int:
        """Send ``sig`` and wait for the exit; its code (-9 after SIGKILL)."""
        self.send(sig)
        return self.wait_exit()

    def send(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait_exit(self, timeout_s: float = 20.0) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout_s)
        self.proc = None
        return code

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
