"""``checkpoint edge run --emulated``: the real runtime (outbox, uplink, updater) on a
virtual node (mock pins, emulated thermometer, rendered QR passes) with its own traffic,
for a bench or a test that needs node processes without a Pi."""

from __future__ import annotations

import random
import threading

from checkpoint.contract.node.config import NodeConfig
from edge.events import Emitter
from edge.runtime_node import NodeFactory
from edge.sim.node import SimNode


class EmulatedNode(SimNode):
    """A SimNode with residents arriving at ``people_per_s`` until it is closed."""

    def __init__(self, config: NodeConfig, emitter: Emitter, people_per_s: float) -> None:
        super().__init__(config, emitter, seed=random.randrange(1 << 30))
        self._stop = threading.Event()
        self._rate = people_per_s
        self._traffic = threading.Thread(target=self._run, name="traffic", daemon=True)
        if people_per_s > 0:
            self._traffic.start()

    def _run(self) -> None:
        rng = random.Random()
        while not self._stop.wait(rng.expovariate(self._rate)):
            self.person_arrives(36.6, self.resident_pass())

    def close(self) -> None:
        self._stop.set()
        if self._traffic.is_alive():
            self._traffic.join(timeout=30.0)
        super().close()


def emulated_factory(people_per_s: float) -> NodeFactory:
    def build(config: NodeConfig, emitter: Emitter) -> EmulatedNode:
        return EmulatedNode(config, emitter, people_per_s)

    return build
