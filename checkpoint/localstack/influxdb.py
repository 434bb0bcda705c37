"""A real InfluxDB 1.x (Debian's ``influxdb``) on loopback ports, data in a scratch dir."""

from __future__ import annotations

from pathlib import Path

from checkpoint.localstack.process import find_program, free_port, http_answers
from checkpoint.localstack.server import LoopbackServer


def influx_pings(url: str) -> bool:
    return http_answers(f"{url}/ping", 204)


class InfluxDB1(LoopbackServer):
    name = "influxd"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

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

    def _program(self) -> str:
        return find_program("influxd", "influxdb")

    def _argv(self, program: str) -> list[str]:
        return [program, "-config", str(self._write_config(free_port()))]

    def _ready(self) -> bool:
        return influx_pings(self.url)
