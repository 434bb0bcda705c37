"""What the hostile-input scenarios share: a hub on a broker of its own, a simulated ward
publishing real traffic in the background, and checks that the hub is still up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from checkpoint.contract.models import EventBase
from checkpoint.settings.mqtt import MqttSettings
from edge.sim.ward import SimWard
from hub.service import HubService


@dataclass
class Traffic:
    """A ward's good nodes, what they emitted, and their ids for the account.

    ``quiet`` nodes (a ward of their own) get no random traffic, only what a scenario does
    with them: a fever there cannot be overwritten by a random passer-by's reading."""

    ward: SimWard
    quiet: SimWard | None = None
    emitted: list[EventBase] = field(default_factory=list)

    @property
    def node_ids(self) -> list[str]:
        wards = [self.ward] if self.quiet is None else [self.ward, self.quiet]
        return [n.config.node_id for w in wards for n in w.nodes]

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.emitted]


class CalmWard(SimWard):
    """A ward where nobody has a fever by chance: the only fever is the one a scenario
    sets off, so its alert can be timed."""

    def body_temperature(self) -> float:
        return 36.4


@contextmanager
def ward_traffic(
    ward_id: str,
    nodes: int,
    mqtt: MqttSettings,
    *,
    people_per_s: float,
    calm: bool = False,
    fever_at: int | None = None,
    quiet_nodes: int = 0,
    drain_s: float = 60.0,
) -> Iterator[Traffic]:
    """Good nodes publishing through their outboxes while the body of the ``with`` runs;
    on leaving, traffic stops and the outboxes drain. ``fever_at``: that node sees a
    fever first, before the random traffic starts (a busy node would not see it)."""
    emitted: list[EventBase] = []
    lock = threading.Lock()

    def keep(event: EventBase) -> None:
        with lock:  # nodes emit from their own threads
            emitted.append(event)

    kind = CalmWard if calm else SimWard
    ward = kind(ward_id, nodes, mqtt, on_event=keep, health_interval_s=1.0)
    quiet = (
        SimWard(f"{ward_id}q", quiet_nodes, mqtt, on_event=keep, health_interval_s=1.0)
        if quiet_nodes
        else None
    )
    traffic = Traffic(ward, quiet, emitted)
    ward.connect(timeout_s=30)
    if quiet is not None:
        quiet.connect(timeout_s=30)
    if fever_at is not None:
        feverish = ward.nodes[fever_at]
        assert feverish.person_arrives(38.9, feverish.resident_pass()) is not None
    stop = threading.Event()
    runner = threading.Thread(target=ward.run, args=(stop, people_per_s), daemon=True)
    runner.start()
    try:
        yield traffic
    finally:
        stop.set()
        runner.join(timeout=30)
        ward.close(drain_s=drain_s)
        if quiet is not None:
            quiet.close(drain_s=drain_s)


def assert_hub_healthy(hub: HubService) -> None:
    """Up and ready as its watchdog and a load balancer see it: the writer thread alive,
    connected to the broker, /readyz answering 200 with every check true."""
    assert hub.healthy(), "the hub's writer thread died"
    assert hub.ingest is not None
    assert hub.ingest.connected, "the hub lost the broker"
    assert hub.api is not None
    ready = httpx.get(f"http://127.0.0.1:{hub.api.port}/readyz", timeout=30)
    assert ready.status_code == 200, ready.text
    assert all(ready.json()["checks"].values()), ready.json()
