"""A real Mosquitto broker on a loopback port, with persistence in a scratch directory."""

from __future__ import annotations

import os
from pathlib import Path

from checkpoint.errors import StackError
from checkpoint.localstack.process import ManagedProcess, find_program, free_port, port_answers


class Mosquitto:
    """``extra_config`` lines go into mosquitto.conf as they are (TLS, ACL tests)."""

    def __init__(self, workdir: Path, *, port: int | None = None, extra_config: str = "") -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._fixed_port = port
        self.port = port or 0
        self.extra_config = extra_config
        self._proc: ManagedProcess | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def process(self) -> ManagedProcess:
        if self._proc is None:
            raise StackError("mosquitto is not started")
        return self._proc

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

    def start(self) -> None:
        binary = find_program("mosquitto", "mosquitto")
        for _attempt in range(3):
            self.port = self._fixed_port or free_port()
            conf = self._write_config()
            self._proc = ManagedProcess(
                "mosquitto", [binary, "-c", str(conf)], self.workdir / "mosquitto.log"
            )
            try:
                self._proc.start(lambda: port_answers(self.port))
                return
            except StackError:
                if self._fixed_port is not None or _attempt == 2:
                    raise
        raise StackError("mosquitto did not start")  # pragma: no cover - loop raises first

    def restart(self, *, kill: bool = False) -> None:
        """Stop and start again on the same port with the same persistence. A clean stop
        saves the persistence file; ``kill`` (SIGKILL, a crash) does not, so the broker
        comes back with what its last autosave held."""
        self._fixed_port = self.port
        if kill:
            self.process.kill()
        else:
            self.stop()
        self.start()

    @property
    def persistence_file(self) -> Path:
        return self.workdir / "mosquitto.db"

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()
