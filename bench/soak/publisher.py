"""Publisher processes: a share of the city's nodes each, paced to the load model.

Each process owns every node whose index is its number modulo the process count (each
node keeps its own sequence numbers) and publishes QoS 1 on one MQTT connection. Pacing
is a token schedule on the monotonic clock: at each 10 ms tick it publishes what the
model owed since the start (passages at a random node of its share, with their readings;
health reports round robin, so each node reports once per health period), so a late
tick catches up instead of lowering the rate. How far behind its schedule it ever got is
reported. An event's ``ts`` is the wall time it is built, just before its publish.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import random
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Event

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from bench.soak.model import KINDS, LoadModel, Node

Counters = ctypes.Array[ctypes.c_longlong]

TICK_S = 0.01
# Slots per publisher in the shared counter array.
SENT = {kind: i for i, kind in enumerate(KINDS)}  # events handed to paho, by kind
ACKED = 3  # PUBACKs from the broker
PROBE = 4  # events of the probe district
BEHIND_MS = 5  # most the schedule ever ran late
FEVER = 6  # confirmed-fever passages
SLOTS = 7


@dataclass(frozen=True, slots=True)
class Share:
    host: str
    port: int
    model: LoadModel
    part: int
    parts: int
    duration_s: float
    seed: int


def _client(share: Share) -> mqtt.Client:
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"soak-publisher-{share.part}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    return c


class Player:
    """One publisher process: its nodes, their schedule, its counters."""

    def __init__(self, share: Share, counters: Counters) -> None:
        random.seed(share.seed + share.part)
        self.share = share
        self.model = share.model
        self.counters = counters
        self.base = share.part * SLOTS
        wall = time.time()
        self.nodes = [
            Node(i, self.model, wall)
            for i in range(share.part, self.model.checkpoints, share.parts)
        ]
        self.health_order = self.nodes[:]
        random.shuffle(self.health_order)  # health phases spread over the period
        self.passage_rate = len(self.nodes) * self.model.passages_per_hour / 3600
        self.health_rate = len(self.nodes) / self.model.health_interval_s
        self.passages = self.healths = 0
        self.client = _client(share)
        self.client.on_publish = self._acked

    def _count(self, slot: int, n: int = 1) -> None:
        self.counters[self.base + slot] += n

    def _acked(self, *_args: object) -> None:
        self._count(ACKED)  # the paho thread is this slot's only writer

    def _publish(self, node: Node, messages: list[tuple[str, bytes]]) -> None:
        for topic, payload in messages:
            self.client.publish(topic, payload, qos=1)
            self._count(SENT[topic.rsplit("/", 1)[1]])
            self._count(PROBE, node.probe)

    def _due(self, elapsed: float) -> None:
        """Publish what the schedule owes at ``elapsed`` seconds."""
        while self.passages < int(self.passage_rate * elapsed):
            node = random.choice(self.nodes)
            messages = node.person(self.model)
            self._count(FEVER, b'"fever":true' in messages[-1][1])
            self._publish(node, messages)
            self.passages += 1
        while self.healths < int(self.health_rate * elapsed):
            node = self.health_order[self.healths % len(self.health_order)]
            self._publish(node, [node.health(time.time())])
            self.healths += 1

    def run(self, ready: Event, go: Event) -> None:
        self.client.connect(self.share.host, self.share.port)
        self.client.loop_start()
        ready.set()
        go.wait()
        start = time.monotonic()
        behind = 0.0
        while (elapsed := time.monotonic() - start) < self.share.duration_s:
            self._due(elapsed)
            # How late the last event due went out.
            due = max(self.passages / self.passage_rate, self.healths / self.health_rate)
            behind = max(behind, time.monotonic() - start - due)
            self.counters[self.base + BEHIND_MS] = round(behind * 1000)
            time.sleep(max(0.0, TICK_S - (time.monotonic() - start - elapsed)))
        total = sum(self.counters[self.base + i] for i in SENT.values())
        deadline = time.monotonic() + 120
        while self.counters[self.base + ACKED] < total and time.monotonic() < deadline:
            time.sleep(0.05)
        self.client.disconnect()
        self.client.loop_stop()


def run_share(share: Share, counters: Counters, ready: Event, go: Event) -> None:
    """The body of one publisher process."""
    Player(share, counters).run(ready, go)


class Publishers:
    """The publisher processes and their shared counters, seen from the soak."""

    def __init__(
        self, host: str, port: int, model: LoadModel, *, parts: int, duration_s: float, seed: int
    ) -> None:
        self.parts = parts
        self.counters: Counters = multiprocessing.RawArray(ctypes.c_longlong, parts * SLOTS)
        self._go = multiprocessing.Event()
        self._ready = [multiprocessing.Event() for _ in range(parts)]
        self._procs = [
            multiprocessing.Process(
                target=run_share,
                args=(
                    Share(host, port, model, part, parts, duration_s, seed),
                    self.counters,
                    self._ready[part],
                    self._go,
                ),
                name=f"publisher-{part}",
                daemon=True,  # gone with the soak, also when it fails
            )
            for part in range(parts)
        ]

    def start(self) -> None:
        """Start the processes and wait until each has built its nodes and connected."""
        for proc in self._procs:
            proc.start()
        for ready in self._ready:
            if not ready.wait(300):
                raise RuntimeError("a publisher did not get ready")

    def go(self) -> None:
        self._go.set()

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self._procs if proc.pid is not None]

    def join(self) -> None:
        for proc in self._procs:
            proc.join(300)

    def total(self, slot: int) -> int:
        return sum(self.counters[p * SLOTS + slot] for p in range(self.parts))

    def most(self, slot: int) -> int:
        return max(self.counters[p * SLOTS + slot] for p in range(self.parts))

    def sent(self) -> dict[str, int]:
        return {kind: self.total(i) for kind, i in SENT.items()}
