"""A simulated ward: N virtual nodes driven by realistic foot traffic.

Each node runs the real node code: gpiozero devices on their own MockFactory, the real
MLX90614 driver talking to an emulated part, and the real MQTT publisher.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from gpiozero.pins.mock import MockFactory

from checkpoint.contract import Event
from checkpoint.settings.mqtt import MqttSettings
from edge.config import NodeConfig
from edge.hardware.mlx90614_emulated import EmulatedMLX90614
from edge.node import Node
from edge.uplink.publisher import Publisher


class SimNode:
    def __init__(self, config: NodeConfig, emit: Callable[[Event], None], seed: int = 0) -> None:
        self.config = config
        self.factory = MockFactory()
        self.sensor = EmulatedMLX90614(ambient_c=29.0, noise_c=0.05, seed=seed)
        self.node = Node(config, emit, pin_factory=self.factory, bus=self.sensor)

    def person_arrives(self, body_c: float) -> None:
        """Someone steps up: the thermometer sees them, the presence sensor fires."""
        self.sensor.object_c = body_c
        pin = self.factory.pin(self.config.pins.presence)
        pin.drive_high()
        pin.drive_low()

    def close(self) -> None:
        self.node.close()
        self.factory.close()


def node_config(ward_id: str, index: int, mqtt: MqttSettings) -> NodeConfig:
    cp = f"{ward_id}-cp{index:02d}"
    return NodeConfig(node_id=f"{cp}-n1", checkpoint_id=cp, ward_id=ward_id, mqtt=mqtt)


class SimWard:
    """Nodes of one ward publishing to a real broker."""

    def __init__(self, ward_id: str, nodes: int, mqtt: MqttSettings, seed: int = 1) -> None:
        self.ward_id = ward_id
        self.rng = random.Random(seed)
        self.publishers: list[Publisher] = []
        self.nodes: list[SimNode] = []
        for i in range(1, nodes + 1):
            cfg = node_config(ward_id, i, mqtt)
            pub = Publisher(cfg.node_id, mqtt)
            self.publishers.append(pub)
            self.nodes.append(SimNode(cfg, pub.publish, seed=seed * 1000 + i))

    def connect(self) -> None:
        for pub in self.publishers:
            pub.connect()

    def body_temperature(self) -> float:
        # Forehead skin reads ~35.5-36.8 C on an MLX90614; about 1 in 50 has a fever.
        if self.rng.random() < 0.02:
            return round(self.rng.uniform(37.8, 39.5), 2)
        return round(self.rng.gauss(36.3, 0.35), 2)

    def step(self) -> SimNode:
        node = self.rng.choice(self.nodes)
        node.person_arrives(self.body_temperature())
        return node

    def run(self, stop: threading.Event, people_per_s: float) -> None:
        while not stop.wait(self.rng.expovariate(people_per_s)):
            self.step()

    def close(self) -> None:
        for node in self.nodes:
            node.close()
        for pub in self.publishers:
            pub.close()


def run_for(ward: SimWard, duration_s: float, people_per_s: float) -> None:
    stop = threading.Event()
    timer = threading.Timer(duration_s, stop.set)
    timer.start()
    try:
        ward.run(stop, people_per_s)
    finally:
        timer.cancel()
        stop.set()
        time.sleep(0)
