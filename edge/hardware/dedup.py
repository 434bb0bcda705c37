"""The same code read twice within a few seconds counts once.

A camera sees the same pass in every frame while it is held up, and people scan twice
when the light is slow: both must not start two decisions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Deduplicator:
    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.clock = clock
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self.suppressed = 0

    def first(self, code: str) -> bool:
        """True if ``code`` was not seen within the window; each sighting renews it."""
        with self._lock:
            now = self.clock()
            # Forget old codes so a node that runs for weeks keeps a small table.
            for old in [c for c, t in self._seen.items() if now - t >= self.window_s]:
                del self._seen[old]
            fresh = code not in self._seen
            self._seen[code] = now
            if not fresh:
                self.suppressed += 1
            return fresh
