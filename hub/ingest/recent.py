"""A bounded memory of recently stored event ids, to count redeliveries and replays.

Correctness does not depend on it: a redelivered event becomes the same InfluxDB point
(hub/influx/schema.py point_time_ns) and overwrites itself. The cache lets the hub count
duplicates, skip rewriting them, and notice an id reused for a *different* point.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class RecentIds:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, int] = OrderedDict()
        # Read by the MQTT thread, filled by the writer thread.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    def get(self, event_id: str) -> int | None:
        """The point time stored for ``event_id``, if it is still remembered."""
        with self._lock:
            return self._ids.get(event_id)

    def add(self, event_id: str, point_time_ns: int) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            self._ids[event_id] = point_time_ns
            self._ids.move_to_end(event_id)
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)
