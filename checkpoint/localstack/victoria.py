"""VictoriaMetrics (Debian's ``victoria-metrics``): a real server for the InfluxDB v2 write
path. It accepts ``/api/v2/write`` as influxdb-client sends it, and ``/api/v1/export``
reads points back at once with the flags below.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from checkpoint.errors import StackError
from checkpoint.localstack.process import ManagedProcess, find_program, free_port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as resp:  # noqa: S310 - loopback
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class VictoriaMetrics:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = 0
        self._proc: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = find_program("victoria-metrics", "victoria-metrics")
        for attempt in range(3):
            self.port = free_port()
            self._proc = ManagedProcess(
                "victoria-metrics",
                [
                    binary,
                    f"-httpListenAddr=127.0.0.1:{self.port}",
                    f"-storageDataPath={self.workdir}/data",
                    "-search.latencyOffset=0s",
                    "-retentionPeriod=100y",
                    "-loggerLevel=ERROR",
                ],
                self.workdir / "victoria.log",
            )
            try:
                self._proc.start(lambda: _healthy(self.url))
                return
            except StackError:
                if attempt == 2:
                    raise
        raise StackError("victoria-metrics did not start")  # pragma: no cover

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()
