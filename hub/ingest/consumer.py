"""The hub's ingest: a bulk lane and (``ingest.priority_lane``) a priority lane, each a
``Lane`` (hub/ingest/lane.py) with its own MQTT session, batches and stages.

Passages, barrier alarms and node statuses (what the command centre must hear about at
once) come through the priority lane, and everything else (readings above all) through the
bulk lane. A backlog of readings at the broker, after an outage or under a flood, then
never holds back a fever.

The bulk lane's subscription (``up/#``) gets the priority topics too. Its copy of a
passage or barrier alarm is dropped only once the priority lane has stored that event;
otherwise (the priority session is newer than a backlog queued for the bulk one, as on the
first start of a hub with lanes) it is stored as any event, which is harmless: the same
point, and the rules derive from an event once. Statuses are retained messages, which a
new priority session gets on subscribing, so the bulk lane leaves them alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from checkpoint.contract import Event, topics
from hub.config import HubConfig
from hub.influx.writer import InfluxWriter
from hub.ingest.admission import NodeAdmission
from hub.ingest.batch import Derivation, Pending
from hub.ingest.confirmer import Confirmer
from hub.ingest.deadletters import DeadLetterStore
from hub.ingest.lane import Lane, new_stats, resolved_mqtt
from hub.ingest.recent import RecentIds
from hub.metrics import HubMetrics

__all__ = ["Derivation", "Ingest", "Lane", "Pending"]


# Events recently kept as dead letters (a node's clock far off, a flood): a copy sent
# again is acknowledged without a second row. Refusals are rare; a flood's are bounded.
REFUSED_IDS = 20_000


class Ingest:
    """The hub's ingest: a bulk lane and (``ingest.priority_lane``) a priority lane."""

    def __init__(
        self,
        config: HubConfig,
        influx: InfluxWriter,
        *,
        derivation: Derivation | None = None,
        on_stored: Callable[[list[Event]], None] | None = None,
        metrics: HubMetrics | None = None,
        dead_letters: DeadLetterStore | None = None,
    ) -> None:
        self.config = config
        self.derivation = derivation  # may be set after construction, before start()
        self.metrics = metrics or HubMetrics()
        priority = config.ingest.priority_lane
        recent = RecentIds(config.ingest.recent_ids)
        refused = RecentIds(REFUSED_IDS)
        # One budget per node across both lanes.
        self.admission = NodeAdmission(config.ingest.node_max_per_minute)
        self.confirmer = Confirmer(
            resolved_mqtt(config),
            f"{config.client_id}-confirm",
            interval_s=config.ingest.confirm_interval_s,
        )

        def lane(name: str, **kwargs: Any) -> Lane:
            return Lane(
                name,
                config,
                influx,
                derivation=lambda: self.derivation,
                on_connection=self._connection_changed,
                admission=self.admission,
                recent=recent,
                refused=refused,
                on_stored=on_stored,
                metrics=self.metrics,
                dead_letters=dead_letters,
                confirmer=self.confirmer,
                **kwargs,
            )

        self.lanes = [
            lane(
                "bulk",
                client_id=config.client_id,
                subscriptions=(topics.ALL_UP,),
                interval_s=config.batch.max_interval_s,
                copies=priority,
            )
        ]
        if priority:
            self.lanes.append(
                lane(
                    "priority",
                    client_id=f"{config.client_id}-priority",
                    subscriptions=topics.PRIORITY_FILTERS,
                    interval_s=0.0,
                    spacing_s=config.batch.priority_interval_s,
                )
            )
        self.metrics.set_pending_source(lambda: sum(lane.unacked for lane in self.lanes))

    @property
    def on_stored(self) -> Callable[[list[Event]], None] | None:
        return self.lanes[0].on_stored

    @on_stored.setter
    def on_stored(self, callback: Callable[[list[Event]], None] | None) -> None:
        """Told of each stored batch, from either lane's store thread."""
        for lane in self.lanes:
            lane.on_stored = callback

    @property
    def stats(self) -> dict[str, int]:
        """The lanes' counters added up (``max_pending`` is the largest lane's)."""
        total = new_stats()
        for lane in self.lanes:
            for key, value in lane.stats.items():
                total[key] = max(total[key], value) if key == "max_pending" else total[key] + value
        return total

    def full_at(self) -> datetime | None:
        """When a lane's intake was last full: messages may then wait at the broker
        (the health rule does not take their lateness for a node's clock)."""
        times = [lane.full_at for lane in self.lanes if lane.full_at is not None]
        return max(times, default=None)

    def _connection_changed(self) -> None:
        self.metrics.connected.set(1 if self.connected else 0)

    @property
    def writer_alive(self) -> bool:
        return all(lane.writer_alive for lane in self.lanes)

    @property
    def connected(self) -> bool:
        """Every lane connected to the broker right now (readiness)."""
        return all(lane.connected for lane in self.lanes)

    def start(self, timeout_s: float = 10.0) -> None:
        self.confirmer.start()
        for lane in self.lanes:
            lane.start()
        deadline = time.monotonic() + timeout_s
        for lane in self.lanes:
            if not lane.wait_connected(max(0.0, deadline - time.monotonic())):
                self.stop()
                why = f": {lane.session.failure}" if lane.session.failure else ""
                raise ConnectionError(
                    f"hub could not connect to {self.config.mqtt.host}:{self.config.mqtt.port}{why}"
                )

    def stop(self) -> None:
        for lane in self.lanes:
            lane.stop()
        self.confirmer.stop()  # the last batches' confirmations go out
