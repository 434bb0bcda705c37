"""A simulated ward: N virtual nodes driven by realistic foot traffic.

Each node runs the real node code (edge/sim/node.py) and the real uplink: events go into
its own durable outbox (SQLite, in a scratch directory) and out through its own MQTT link.
Traffic: residents going in and out with their passes (camera or wedge), now and then a
fever, a stranger without a pass or with a pass from elsewhere, a cracked phone screen
(unreadable QR), a barrier lifted by hand, and a node that loses its uplink for a while and
delivers its backlog when it is back.
"""

from __future__ import annotations

import logging
import math
import random
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from checkpoint.contract.models import BarrierAlarm, EventBase, Health, Passage
from checkpoint.settings.mqtt import MqttSettings
from edge.config import NodeConfig
from edge.events import E, Emitter
from edge.passcheck_allowlist import pass_text
from edge.sim.node import SimNode, node_config
from edge.uplink.link import Link
from edge.uplink.outbox import Outbox
from edge.uplink.settings import LinkSettings, OutboxSettings

__all__ = ["SimNode", "SimWard", "node_config", "run_for"]

log = logging.getLogger(__name__)


def _real_clock() -> datetime:
    return datetime.now(UTC)


class CountingEmitter:
    """Passes events to the outbox and tells the ward what happened."""

    def __init__(self, inner: Emitter, on_event: Callable[[EventBase], None]) -> None:
        self.inner = inner
        self.on_event = on_event

    def emit(self, kind: type[E], /, **fields: Any) -> E:
        event = self.inner.emit(kind, **fields)
        self.on_event(event)
        return event


class SimWard:
    """Nodes of one ward, each with its own outbox and MQTT link to a real broker."""

    def __init__(
        self,
        ward_id: str,
        nodes: int,
        mqtt: MqttSettings,
        seed: int = 1,
        *,
        on_event: Callable[[EventBase], None] | None = None,
        health_interval_s: float | None = 10.0,
        state_dir: Path | None = None,
        clocks: Sequence[Callable[[], datetime]] = (),
    ) -> None:
        """``clocks``: the wall clocks of the first nodes, in order (the rest use the real
        one), which stamp their events: an NTP step or a Pi without RTC, for tests."""
        self.ward_id = ward_id
        self.mqtt = mqtt
        self.health_interval_s = health_interval_s
        self.rng = random.Random(seed)
        self._own_dir = state_dir is None
        self.state_dir = state_dir or Path(tempfile.mkdtemp(prefix="checkpoint-sim-"))
        # A fast drain and quick reconnects: a simulated outage should end within seconds.
        self.drain = OutboxSettings(path=self.state_dir / "unused", rate_per_s=2000, burst=500)
        self.link_settings = LinkSettings(backoff_min_s=0.2, backoff_max_s=2.0)
        self.outboxes: list[Outbox] = []
        self.links: list[Link] = []
        self.down: set[int] = set()  # nodes whose uplink is cut right now
        self.nodes: list[SimNode] = []
        self.happenings: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()  # passage decision/reason, alarm kinds
        self._on_event = on_event
        self._timers: list[threading.Timer] = []
        for i in range(1, nodes + 1):
            cfg = node_config(ward_id, i, mqtt)
            outbox = Outbox(
                self.state_dir / f"{cfg.node_id}.sqlite",
                node_id=cfg.node_id,
                checkpoint_id=cfg.checkpoint_id,
                ward_id=cfg.ward_id,
                max_bytes=self.drain.max_bytes,
                clock=clocks[i - 1] if i <= len(clocks) else _real_clock,
            )
            self.outboxes.append(outbox)
            self.links.append(self._link(cfg, outbox))
            emitter = CountingEmitter(outbox, self._count)
            self.nodes.append(SimNode(cfg, emitter, seed=seed * 1000 + i))

    def _link(self, config: NodeConfig, outbox: Outbox) -> Link:
        return Link(config.node_id, self.mqtt, outbox, drain=self.drain, link=self.link_settings)

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
            "events delivered": sum(link.stats["acked"] for link in self.links),
            "events waiting in outboxes": sum(outbox.depth for outbox in self.outboxes),
        }

    def connect(self, timeout_s: float = 10.0) -> None:
        """Start every link; wait (bounded) until they are connected."""
        for link in self.links:
            link.start()
        deadline = time.monotonic() + timeout_s
        for link in self.links:
            if not link.connected.wait(max(0.0, deadline - time.monotonic())):
                log.warning("%s: not connected yet; its events wait in its outbox", link.node_id)
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
        if roll < 0.002:
            self.lose_uplink(node, self.rng.uniform(5.0, 20.0))
            return node
        if roll < 0.007:
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

    def lose_uplink(self, node: SimNode, seconds: float) -> None:
        """Cut the node's uplink (4G gone); it keeps deciding and its events wait in the
        outbox, then drain when the uplink is back."""
        index = self.nodes.index(node)
        if index in self.down:
            return
        self.happenings["uplink_lost"] += 1
        self.down.add(index)
        self.links[index].stop()
        timer = threading.Timer(seconds, self.restore_uplink, args=(index,))
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def restore_uplink(self, index: int) -> None:
        if index not in self.down:
            return
        self.down.discard(index)
        link = self._link(self.nodes[index].config, self.outboxes[index])
        old = self.links[index]
        link.stats["acked"] += old.stats["acked"]  # keep the ward's delivered count whole
        self.links[index] = link
        link.start()

    def drained(self, timeout_s: float) -> bool:
        """Wait until every outbox is empty (links up); False if time ran out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.down and all(o.depth == 0 for o in self.outboxes):
                return True
            time.sleep(0.05)
        return False

    def run(self, stop: threading.Event, people_per_s: float) -> None:
        while not stop.wait(self.rng.expovariate(people_per_s)):
            self.step()

    def close(self, drain_s: float = 10.0) -> None:
        """Stop the traffic, bring cut uplinks back, let the outboxes drain (bounded), and
        stop. What did not drain stays in the outbox files until they are deleted."""
        for timer in self._timers:
            timer.cancel()
        for node in self.nodes:
            node.close()
        for index in list(self.down):
            self.restore_uplink(index)
        if not self.drained(drain_s):
            log.warning("outboxes not drained within %.0fs", drain_s)
        for link in self.links:
            link.stop()
        for outbox in self.outboxes:
            outbox.close()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)


def run_for(ward: SimWard, duration_s: float, people_per_s: float) -> None:
    """Run the ward for ``duration_s`` (``inf``: until Ctrl-C)."""
    stop = threading.Event()
    # A Timer cannot wait forever (its wait overflows time_t): no timer for "until Ctrl-C".
    timer = threading.Timer(duration_s, stop.set) if math.isfinite(duration_s) else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        ward.run(stop, people_per_s)
    finally:
        if timer is not None:
            timer.cancel()
        stop.set()
