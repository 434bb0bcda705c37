"""A server of ours on loopback (Mosquitto, InfluxDB, PostgreSQL, VictoriaMetrics): its
scratch directory, its port, and start, restart and stop.

``start`` runs the server on a free port, or on the fixed one, and waits until it answers.
Another process may take a free port between our choosing it and the server binding it, so
a start that fails is tried again on another port, three times in all; a fixed port is
never changed, and its failure is final.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from checkpoint.errors import StackError
from checkpoint.localstack.process import ManagedProcess, free_port

_ATTEMPTS = 3


class LoopbackServer(ABC):
    """``name`` names its process in errors and its log file ``<name>.log`` in ``workdir``."""

    name: ClassVar[str]

    def __init__(self, workdir: Path, *, port: int | None = None) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._fixed_port = port
        self.port = port or 0
        self._proc: ManagedProcess | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def process(self) -> ManagedProcess:
        if self._proc is None:
            raise StackError(f"{self.name} is not started")
        return self._proc

    @abstractmethod
    def _program(self) -> str:
        """Find the program to run and prepare what it needs: once a start, before tries."""

    @abstractmethod
    def _argv(self, program: str) -> list[str]:
        """The command line that runs ``program`` on ``self.port`` (writing its config)."""

    @abstractmethod
    def _ready(self) -> bool:
        """Whether the server started takes requests yet."""

    def start(self) -> None:
        program = self._program()
        for attempt in range(_ATTEMPTS):
            self.port = self._fixed_port or free_port()
            self._proc = ManagedProcess(
                self.name, self._argv(program), self.workdir / f"{self.name}.log"
            )
            try:
                self._proc.start(self._ready)
                return
            except StackError:
                if self._fixed_port is not None or attempt == _ATTEMPTS - 1:
                    raise
        raise StackError(f"{self.name} did not start")  # pragma: no cover - loop raises first

    def restart(self) -> None:
        """Stop and start again on the same port, so that clients' URLs stay valid."""
        self._fixed_port = self.port
        self.stop()
        self.start()

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()
