"""A real InfluxDB 1.x (Debian's ``influxdb``) on loopback ports, data in a scratch dir."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from checkpoint.errors import StackError
from checkpoint.localstack.process import ManagedProcess, find_program, free_port


def influx_pings(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=1) as resp:  # noqa: S310 - loopback
            return bool(resp.status == 204)
    except (urllib.error.URLError, OSError):
        return False


class InfluxDB1:
    def __init__(self, workdir: Path, *, port: int | None = None) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._fixed_port = port
        self.port = port or 0
        self._proc: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def process(self) -> ManagedProcess:
        if self._proc is None:
            raise StackError("influxd is not started")
        return self._proc

    def _write_config(self, rpc_port: int) -> Path:
        d = self.workdir
        conf = d / "influxdb.conf"
        conf.write_text(
            "reporting-disabled = true\n"
            f'bind-address = "127.0.0.1:{rpc_port}"\n'
            f'[meta]\n  dir = "{d}/meta"\n'
            f'[data]\n  dir = "{d}/data"\n  wal-dir = "{d}/wal"\n'
            "  query-log-enabled = false\n"
            "[monitor]\n  store-enabled = false\n"
            f'[http]\n  bind-address = "127.0.0.1:{self.port}"\n'
            "  log-enabled = false\n"
            "  max-body-size = 0\n"
            "[continuous_queries]\n  enabled = false\n"
        )
        return conf

    def start(self) -> None:
        binary = find_program("influxd", "influxdb")
        for attempt in range(3):
            self.port = self._fixed_port or free_port()
            conf = self._write_config(free_port())
            self._proc = ManagedProcess(
                "influxd", [binary, "-config", str(conf)], self.workdir / "influxd.log"
            )
            try:
                self._proc.start(lambda: influx_pings(self.url))
                return
            except StackError:
                if self._fixed_port is not None or attempt == 2:
                    raise
        raise StackError("influxd did not start")  # pragma: no cover - loop raises first

    def restart(self) -> None:
        self._fixed_port = self.port
        self.stop()
        self.start()

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()
