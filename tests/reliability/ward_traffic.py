"""A simulated ward whose foot traffic runs in the background while a scenario breaks
something (the broker, InfluxDB, the hub), and the wait for its events to be stored."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from checkpoint.contract.models import EventBase
from checkpoint.settings.mqtt import MqttSettings
from edge.sim.ward import SimWard
from hub.influx.v1 import InfluxV1
from tests.helpers import wait_for
from tests.reliability.ledger import stored_event_ids


class WardTraffic:
    """``SimWard`` nodes (real outbox and link each) with people arriving at
    ``people_per_s`` on a background thread; ``emitted`` holds every event they made."""

    def __init__(
        self,
        ward_id: str,
        nodes: int,
        mqtt: MqttSettings,
        *,
        people_per_s: float = 20.0,
        health_interval_s: float = 1.0,
    ) -> None:
        self.emitted: list[EventBase] = []  # appended from node threads: list.append is atomic
        self.ward = SimWard(
            ward_id, nodes, mqtt, on_event=self.emitted.append, health_interval_s=health_interval_s
        )
        self.people_per_s = people_per_s
        self.undelivered = 0  # events still in outboxes when the scenario closed the ward
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.emitted]

    @property
    def node_ids(self) -> list[str]:
        return [n.config.node_id for n in self.ward.nodes]

    def start(self) -> None:
        """Connect the links (first time) and let people arrive."""
        if self._thread is None and not self._stop.is_set():
            self.ward.connect()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self.ward.run, args=(self._stop, self.people_per_s), daemon=True
        )
        self._thread.start()

    def pause(self) -> None:
        """No new arrivals; wait until everyone at a node has been decided."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        wait_for(lambda: not any(n.busy for n in self.ward.nodes), timeout_s=60, what="nodes idle")

    def fever(self, index: int = 0) -> None:
        """A resident with a confirmed fever at node ``index`` (traffic paused meanwhile:
        one person at a time at a checkpoint)."""
        running = self._thread is not None and not self._stop.is_set()
        self.pause()
        node = self.ward.nodes[index]
        node.person_arrives(38.9, node.resident_pass())
        if running:
            self.start()

    def close(self, drain_s: float = 60.0) -> None:
        """Stop the traffic and let every outbox drain into the broker (bounded)."""
        self.pause()
        self.ward.drained(drain_s)
        self.undelivered = sum(o.depth for o in self.ward.outboxes)
        self.ward.close(drain_s=10)


def wait_all_stored(
    influx: InfluxV1, ids: Sequence[str], nodes: Sequence[str], timeout_s: float = 120.0
) -> bool:
    """Wait until every emitted id has a point; False after ``timeout_s``. It does not fail
    the test itself: the account that follows says what is missing, which tells more."""
    wanted = set(ids)
    deadline = time.monotonic() + timeout_s
    while not wanted <= set(stored_event_ids(influx, nodes=nodes)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True
