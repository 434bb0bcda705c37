"""Per-node admission: how many events one node may make per minute of its own clock.

Mosquitto 2.0 has no per-client rate limit, and the broker hands the hub one FIFO queue:
a node flooding valid-looking events (compromised, or a bug in a loop) would push every
other node's events behind its own in that queue and through the rules. Events over a
node's budget are dead-lettered with reason ``rate_limited`` (raw bytes kept, counted in
metrics), which costs the hub one row instead of a point and a rules pass, so the queue
moves on. Nothing is dropped without trace.

Each event counts in the minute of its own ``ts``, not in the minute the hub reads it, and
the order events arrive in does not matter: a backlog that waited in a node's outbox
(uplink cut) or at the broker (hub restarting, InfluxDB down) arrives all at once, and
out of order between the hub's two lanes, but it was made over hours and passes whole (a
minute counted long ago starts afresh). A flood is many events made in little node time.
The budget is far above what an honest node makes (a passage or two a minute, health every
few seconds).
"""

from __future__ import annotations

import threading

# Minutes counted per node: the node's current one and the one before (a passage and a
# reading of the same minute can reach the hub's two lanes moments apart). An older minute
# that comes again (a backlog's readings behind its passages) starts a fresh count: only
# ever more lenient, and a flood is many events in one minute of node time all the same.
# A city's 26,000 nodes each add a minute a minute, so this is most of what admission
# keeps; at 120 minutes it grew for two hours to about 300 MB, at 15 for the whole
# 10-minute soak (bench/city_soak.py).
KEEP_MINUTES = 2


class NodeAdmission:
    """``per_minute`` events per node and minute of the node's clock; 0 turns it off."""

    def __init__(self, per_minute: int, *, max_nodes: int = 100_000) -> None:
        self.per_minute = per_minute
        self.max_nodes = max_nodes
        self._lock = threading.Lock()
        self._counts: dict[str, dict[int, int]] = {}  # node: {minute: events admitted}

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def admit(self, node_id: str, made_at: float) -> bool:
        """Count an event ``node_id`` made at ``made_at`` (its ``ts``, epoch seconds);
        False if that minute of the node's is already full. A refused event uses nothing."""
        if not self.enabled:
            return True
        minute = int(made_at // 60)
        with self._lock:
            counts = self._counts.get(node_id)
            if counts is None:
                if len(self._counts) >= self.max_nodes:
                    # A client inventing node ids (no ACL in front) must not grow this
                    # without end: forgetting means each starts afresh, never less allowed.
                    self._counts.clear()
                counts = self._counts[node_id] = {}
            admitted = counts.get(minute, 0)
            if admitted >= self.per_minute:
                return False
            counts[minute] = admitted + 1
            if len(counts) > KEEP_MINUTES:
                del counts[min(counts)]
            return True
