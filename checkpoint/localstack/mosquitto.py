"""A real Mosquitto broker on a loopback port, with persistence in a scratch directory."""

from __future__ import annotations

import os
from pathlib import Path

from checkpoint.localstack.process import find_program, port_answers
from checkpoint.localstack.server import LoopbackServer


class Mosquitto(LoopbackServer):
    """``extra_config`` lines go into mosquitto.conf as they are (TLS, ACL tests)."""

    name = "mosquitto"

    def __init__(self, workdir: Path, *, port: int | None = None, extra_config: str = "") -> None:
        super().__init__(workdir, port=port)
        self.extra_config = extra_config

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def _write_config(self) -> Path:
        conf = self.workdir / "mosquitto.conf"
        # Run as whoever starts us: as root, mosquitto would otherwise switch to the
        # 'mosquitto' user, which cannot write our scratch directory.
        user = "user root\n" if os.geteuid() == 0 else ""
        listener = (
            ""
            if "listener" in self.extra_config
            else (f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
        )
        conf.write_text(
            f"{user}"
            f"{listener}"
            "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            "autosave_interval 5\n"
            # Queued QoS 1 messages for an offline persistent session: no count limit
            # (a hub that was down keeps its backlog), bounded by bytes instead.
            "max_queued_messages 0\n"
            "max_queued_bytes 1073741824\n"
            "max_inflight_messages 100\n"
            "set_tcp_nodelay true\n"
            "log_dest stdout\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            f"{self.extra_config}\n"
        )
        return conf

    def _program(self) -> str:
        return find_program("mosquitto", "mosquitto")

    def _argv(self, program: str) -> list[str]:
        return [program, "-c", str(self._write_config())]

    def _ready(self) -> bool:
        return port_answers(self.port)

    def restart(self, *, kill: bool = False) -> None:
        """Stop and start again on the same port with the same persistence. A clean stop
        saves the persistence file; ``kill`` (SIGKILL, a crash) does not, so the broker
        comes back with what its last autosave held."""
        if kill:
            self.process.kill()
        super().restart()

    @property
    def persistence_file(self) -> Path:
        return self.workdir / "mosquitto.db"
