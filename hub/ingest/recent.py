"""A bounded memory of recently stored event ids, to count redeliveries and replays.

Correctness does not depend on it: a redelivered event becomes the same InfluxDB point
(hub/influx/schema.py point_time_ns) and overwrites itself. The cache lets the hub count
duplicates, skip rewriting them, and notice an id reused for a *different* point.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

_LANE_BITS = 2  # up to four lanes' names, kept in an id's int


class RecentIds:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        # Read for every message by the lanes' reader threads, without a lock: each
        # OrderedDict operation is atomic under the interpreter lock, and a reader sees an
        # id either remembered or not, both fine (above). The writers (one per lane, once
        # a batch) take turns, so that trimming cannot race.
        # The value is one int (the point's time, then the lane's number in the low bits),
        # not a tuple: the cyclic collector tracks every tuple made, and 200,000 of them
        # made its pauses the alert path's longest wait (bench/hub_ingest).
        self._ids: OrderedDict[str, int] = OrderedDict()
        self._lanes: list[str] = []
        self._writing = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    def get(self, event_id: str) -> int | None:
        """The point time stored for ``event_id``, if it is still remembered."""
        seen = self._ids.get(event_id)
        return None if seen is None else seen >> _LANE_BITS

    def add(self, event_id: str, point_time_ns: int, lane: str = "") -> None:
        self.add_many(((event_id, point_time_ns),), lane)

    def add_many(self, items: Iterable[tuple[str, int]], lane: str = "") -> list[str | None]:
        """Remember these as stored by ``lane``; for each, the lane that had stored it
        already (None: new, not remembered nor earlier in ``items``), so that an event
        stored twice (a redelivery, or by both lanes) is counted once and the hub can tell
        a redelivery (the same lane) from the lanes' race. With ``capacity`` 0 only within
        ``items``."""
        ids = self._ids
        lanes = self._lanes
        before: list[str | None] = []
        with self._writing:
            if lane not in lanes:
                if len(lanes) == 1 << _LANE_BITS:
                    raise ValueError(f"more than {1 << _LANE_BITS} lanes")
                lanes.append(lane)
            code = lanes.index(lane)
            mask = (1 << _LANE_BITS) - 1
            for event_id, point_time_ns in items:
                seen = ids.get(event_id)
                before.append(None if seen is None else lanes[seen & mask])
                ids[event_id] = (point_time_ns << _LANE_BITS) | code
                ids.move_to_end(event_id)
            while len(ids) > self.capacity:
                ids.popitem(last=False)
        return before
