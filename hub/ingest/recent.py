"""A bounded memory of recently stored event ids, to count redeliveries and replays.

Correctness does not depend on it: a redelivered event becomes the same InfluxDB point
(hub/influx/schema.py point_time_ns) and overwrites itself. The cache lets the hub count
duplicates, skip rewriting them, and notice an id reused for a *different* point.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable


class RecentIds:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        # Read for every message by the lanes' reader threads, without a lock: each
        # OrderedDict operation is atomic under the interpreter lock, and a reader sees an
        # id either remembered or not, both fine (above). The writers (one per lane, once
        # a batch) take turns, so that trimming cannot race.
        self._ids: OrderedDict[str, int] = OrderedDict()
        self._writing = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    def get(self, event_id: str) -> int | None:
        """The point time stored for ``event_id``, if it is still remembered."""
        return self._ids.get(event_id)

    def add(self, event_id: str, point_time_ns: int) -> None:
        self.add_many(((event_id, point_time_ns),))

    def add_many(self, items: Iterable[tuple[str, int]]) -> set[str]:
        """Remember these as stored; returns the ids that were not remembered yet, so that
        an event two lanes (or a redelivery) store twice is counted once."""
        if self.capacity <= 0:
            return {event_id for event_id, _ in items}
        ids = self._ids
        fresh = set()
        with self._writing:
            for event_id, point_time_ns in items:
                if event_id not in ids:
                    fresh.add(event_id)
                ids[event_id] = point_time_ns
                ids.move_to_end(event_id)
            while len(ids) > self.capacity:
                ids.popitem(last=False)
        return fresh
