"""A simulated ward: N virtual nodes driven by realistic foot traffic.

Each node runs the real node code (edge/sim/node.py) and publishes through the real MQTT
publisher. Traffic: residents going in and out with their passes (camera or wedge), now
and then a fever, a stranger without a pass or with a pass from elsewhere, a cracked
phone screen (unreadable QR), and a barrier lifted by hand.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Literal

from checkpoint.contract.models import BarrierAlarm, EventBase, Health, Passage
from checkpoint.settings.mqtt import MqttSettings
from edge.passcheck_allowlist import pass_text
from edge.sim.emitter import PublishingEmitter
from edge.sim.node import SimNode, node_config
from edge.uplink.publisher import Publisher

__all__ = ["SimNode", "SimWard", "node_config", "run_for"]

log = logging.getLogger(__name__)


class SimWard:
    """Nodes of one ward publishing to a real broker."""

    def __init__(
        self,
        ward_id: str,
        nodes: int,
        mqtt: MqttSettings,
        seed: int = 1,
        *,
        on_event: Callable[[EventBase], None] | None = None,
        health_interval_s: float | None = 10.0,
    ) -> None:
        self.ward_id = ward_id
        self.health_interval_s = health_interval_s
        self.rng = random.Random(seed)
        self.publishers: list[Publisher] = []
        self.emitters: list[PublishingEmitter] = []
        self.nodes: list[SimNode] = []
        self.happenings: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()  # passage decision/reason, alarm kinds
        self._on_event = on_event
        self._timers: list[threading.Timer] = []
        for i in range(1, nodes + 1):
            cfg = node_config(ward_id, i, mqtt)
            pub = Publisher(cfg.node_id, mqtt)
            emitter = PublishingEmitter(cfg, pub.publish, on_event=self._count)
            self.publishers.append(pub)
            self.emitters.append(emitter)
            self.nodes.append(SimNode(cfg, emitter, seed=seed * 1000 + i))

    def _count(self, event: EventBase) -> None:
        if isinstance(event, Passage):
            self.outcomes[f"passage {event.decision.value} {event.reason.value}"] += 1
        elif isinstance(event, BarrierAlarm):
            self.outcomes[f"barrier {event.kind.value}"] += 1
        elif isinstance(event, Health):
            self.outcomes["health"] += 1
        if self._on_event is not None:
            self._on_event(event)

    def summary(self) -> dict[str, int]:
        """What happened and what came of it, for the sim's closing lines."""
        return {
            **{f"happened {k}": v for k, v in sorted(self.happenings.items())},
            **dict(sorted(self.outcomes.items())),
            "events sent": sum(e.sent for e in self.emitters),
            "events not delivered": sum(e.failed for e in self.emitters),
        }

    def connect(self) -> None:
        for pub in self.publishers:
            pub.connect()
        if self.health_interval_s:
            for node in self.nodes:
                node.node.health_sampler.start(self.health_interval_s)

    def body_temperature(self) -> float:
        # Forehead skin reads ~35.5-36.8 C on an MLX90614; about 1 in 50 has a fever.
        if self.rng.random() < 0.02:
            return round(self.rng.uniform(37.8, 39.5), 2)
        if self.rng.random() < 0.03:  # hot from the sun: high first, normal on re-measure
            return round(self.rng.uniform(36.0, 36.8), 2)
        return round(self.rng.gauss(36.3, 0.35), 2)

    def step(self) -> SimNode | None:
        """One happening at a random idle node; None if every node is busy."""
        idle = [n for n in self.nodes if not n.busy]
        if not idle:
            return None
        node = self.rng.choice(idle)
        roll = self.rng.random()
        direction: Literal["in", "out"] = "in" if self.rng.random() < 0.5 else "out"
        body = self.body_temperature()
        if roll < 0.005:
            self.forced_barrier(node)
            return node
        if roll < 0.04:
            what, shown = "stranger_no_pass", None
        elif roll < 0.06:
            what, shown = "stranger_foreign_pass", pass_text(f"elsewhere{self.rng.randint(0, 999)}")
        else:
            what, shown = "resident", node.resident_pass()
        damaged = shown is not None and self.rng.random() < 0.01
        via: Literal["camera", "wedge"] = "wedge" if self.rng.random() < 0.2 else "camera"
        self.happenings[what] += 1
        node.person_arrives(body, shown, direction=direction, via=via, damaged=damaged, wait=False)
        return node

    def forced_barrier(self, node: SimNode) -> None:
        self.happenings["forced_barrier"] += 1
        node.arm.force_open()
        timer = threading.Timer(self.rng.uniform(0.5, 5.0), node.arm.push_down)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def run(self, stop: threading.Event, people_per_s: float) -> None:
        while not stop.wait(self.rng.expovariate(people_per_s)):
            self.step()

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        for node in self.nodes:
            node.close()
        for pub in self.publishers:
            pub.close()


def run_for(ward: SimWard, duration_s: float, people_per_s: float) -> None:
    stop = threading.Event()
    timer = threading.Timer(duration_s, stop.set)
    timer.daemon = True
    timer.start()
    try:
        ward.run(stop, people_per_s)
    finally:
        timer.cancel()
        stop.set()
