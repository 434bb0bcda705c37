"""VictoriaMetrics (Debian's ``victoria-metrics``): a real server for the InfluxDB v2 write
path. It accepts ``/api/v2/write`` as influxdb-client sends it, and ``/api/v1/export``
reads points back at once with the flags below.
"""

from __future__ import annotations

from checkpoint.localstack.process import find_program, http_answers
from checkpoint.localstack.server import LoopbackServer


class VictoriaMetrics(LoopbackServer):
    name = "victoria-metrics"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _program(self) -> str:
        return find_program("victoria-metrics", "victoria-metrics")

    def _argv(self, program: str) -> list[str]:
        return [
            program,
            f"-httpListenAddr={self.host}:{self.port}",
            f"-storageDataPath={self.workdir}/data",
            "-search.latencyOffset=0s",
            "-retentionPeriod=100y",
            "-loggerLevel=ERROR",
        ]

    def _ready(self) -> bool:
        return http_answers(f"{self.url}/health", 200)
