"""Per-node admission: a token bucket per node id on the ingest path.

Mosquitto 2.0 has no per-client rate limit, and the broker hands the hub one FIFO queue:
a node flooding valid-looking events (compromised, or a bug in a loop) would push every
other node's events, fevers included, behind its own in that queue and through the rules.
Events over a node's budget are dead-lettered with reason ``rate_limited`` (raw bytes kept,
counted in metrics), which costs the hub one row instead of a point and a rules pass, so
the queue moves on. Nothing is dropped without trace.

The bucket runs on the node's own clock (each event's ``ts``), not on when the hub reads
the event: a backlog that waited at the broker (the hub restarting, InfluxDB down) or in
the node's outbox (an uplink cut) arrives all at once, but its events were made over
hours, and it is no flood. A flood is many events made in little node time. The budget is
far above what an honest node makes (a passage or two a minute, health every few seconds).
"""

from __future__ import annotations

import threading


class NodeAdmission:
    """``rate_per_s`` events per second per node, bursts of ``burst``; 0 turns it off."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        *,
        max_nodes: int = 100_000,
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = float(burst)
        self.max_nodes = max_nodes
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # node: (tokens, at)

    @property
    def enabled(self) -> bool:
        return self.rate_per_s > 0

    def admit(self, node_id: str, made_at: float) -> bool:
        """Take one token from ``node_id``'s bucket for an event the node made at
        ``made_at`` (its ``ts``, epoch seconds); False if it has none left.

        Tokens come back as the node's clock advances; an event dated before the latest one
        seen (a clock stepped back) takes a token and gives none back."""
        if not self.enabled:
            return True
        with self._lock:
            tokens, at = self._buckets.get(node_id, (self.burst, made_at))
            now = max(at, made_at)
            tokens = min(self.burst, tokens + (now - at) * self.rate_per_s)
            admitted = tokens >= 1.0
            if admitted:
                tokens -= 1.0
            self._buckets[node_id] = (tokens, now)
            if len(self._buckets) > self.max_nodes:
                self._forget_full(now)
        return admitted

    def _forget_full(self, now: float) -> None:
        # A full bucket is what a node without an entry gets: forgetting it changes nothing,
        # and a client inventing node ids (no ACL in front) cannot grow this without end.
        # ``now`` is the latest node clock seen: others' clocks are near it.
        full = [
            node
            for node, (tokens, at) in self._buckets.items()
            if tokens + max(0.0, now - at) * self.rate_per_s >= self.burst
        ]
        for node in full:
            del self._buckets[node]
        if len(self._buckets) > self.max_nodes:
            # Still too many partly used buckets: forget them all (each starts full again)
            # rather than hold unbounded memory.
            self._buckets.clear()
