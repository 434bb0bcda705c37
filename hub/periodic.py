"""Work done in rounds on a thread of its own: the hub's background loops (rollouts, the
lease watch, the trace purge, escalations, the trust refresh) start, survive a failing
round and stop the same way."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    """Calls ``work`` every ``every_s`` seconds on a daemon thread called ``name`` until
    ``stop``; with ``at_start``, once at once too.

    A round that raises is logged and the next one comes on time: the state store, the
    broker or InfluxDB may be away for a while, and the loop must outlive that."""

    def __init__(
        self, name: str, every_s: float, work: Callable[[], object], *, at_start: bool = False
    ) -> None:
        self.name = name
        self.every_s = every_s
        self.work = work
        self.at_start = at_start
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if self.at_start:
            self._round()
        while not self._stop.wait(self.every_s):
            self._round()

    def _round(self) -> None:
        try:
            self.work()
        except Exception:  # logged; the next round tries again
            log.exception("%s: round failed", self.name)

    def stop(self, timeout_s: float = 10.0) -> None:
        """No more rounds; waits up to ``timeout_s`` for one under way. Idempotent, and
        callable from ``work`` itself (it then only ends the loop)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
