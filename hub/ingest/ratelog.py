"""Log rejects at a limited rate: a node stuck sending garbage must not flood the journal.

Every reject is still counted (metrics) and kept (dead letters); only the log lines are
limited, per reason, with a note of how many were left out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class RateLimitedLog:
    def __init__(
        self,
        logger: logging.Logger,
        per_window: int,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.per_window = per_window
        self.window_s = window_s
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int, int]] = {}  # key: (start, logged, skipped)

    def report(self, key: str, msg: str, *args: object) -> bool:
        """Log unless ``key`` used up its lines in this window; return whether it logged."""
        now = self.clock()
        with self._lock:
            start, logged, skipped = self._windows.get(key, (now, 0, 0))
            if now - start >= self.window_s:
                if skipped:
                    self.logger.warning(
                        "... %d more %r not logged in %.0fs", skipped, key, now - start
                    )
                start, logged, skipped = now, 0, 0
            if logged >= self.per_window:
                self._windows[key] = (start, logged, skipped + 1)
                return False
            self._windows[key] = (start, logged + 1, skipped)
        self.logger.warning(msg, *args)
        return True
