"""The node runtime (EdgeService) in a thread, its node on simulated hardware, verifying
passes offline against the runtime's own trust store: for tests over a real broker."""

from __future__ import annotations

import threading

from checkpoint.contract.node.config import NodeConfig
from edge.events import Emitter
from edge.policy_now import screens, shift_at
from edge.service import EdgeService
from edge.sim.node import SimNode
from edge.trust.verifier import OfflineVerifier
from tests.helpers import wait_for


class Runtime:
    """An EdgeService in a thread; ``sim`` is the node it built last."""

    def __init__(self, config: NodeConfig) -> None:
        self.sims: list[SimNode] = []
        self.service = EdgeService(config, node_factory=self._build)
        self.thread = threading.Thread(target=self.service.run, daemon=True)
        self.thread.start()

    def _build(self, config: NodeConfig, emitter: Emitter) -> SimNode:
        verifier = OfflineVerifier(self.service.trust, config.trust)
        trust = self.service.trust
        self.sims.append(
            SimNode(
                config,
                emitter,
                seed=len(self.sims),
                verifier=verifier,
                shift_plan=lambda now: shift_at(trust, config, now),
                screens=lambda level, zone: screens(trust, config, level, zone),
            )
        )
        return self.sims[-1]

    @classmethod
    def rebooted(cls, config: NodeConfig) -> Runtime:
        """A runtime started again on ``config`` (its stored lists), once its node is built."""
        runtime = cls(config)
        wait_for(lambda: runtime.sims, what="the node built on what it stored")
        return runtime

    @property
    def sim(self) -> SimNode:
        return self.sims[-1]

    def stop(self) -> None:
        self.service.request_stop()
        self.thread.join(15)
