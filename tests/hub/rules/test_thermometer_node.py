"""Thermometer faults produced by the real node code reading an emulated MLX90614 that
fails the way parts in the field do (stuck register, drift), not by hand-written values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from checkpoint.contract import Event
from checkpoint.contract.node.config import ScannerConfig
from checkpoint.settings.mqtt import MqttSettings
from edge.events import MemoryEmitter
from edge.hardware.mlx90614 import celsius_to_raw
from edge.sim.ward import SimNode, node_config
from tests.hub.rules.harness import Hub


@pytest.fixture
def sims() -> Iterator[tuple[list[SimNode], list[Event]]]:
    events: list[Event] = []
    # Nobody here shows a pass: a short pass timeout keeps 48 people under a few seconds.
    configs = [
        node_config("phucla", i, MqttSettings()).model_copy(
            update={"scanner": ScannerConfig(pass_timeout_s=0.05)}
        )
        for i in range(1, 5)
    ]
    nodes = [
        SimNode(c, MemoryEmitter(c.node_id, c.checkpoint_id, c.ward_id, sink=events.append), seed=i)
        for i, c in enumerate(configs, 1)
    ]
    yield nodes, events
    for node in nodes:
        node.close()


def test_stuck_register_raises_and_clears(
    hub: Hub, sims: tuple[list[SimNode], list[Event]]
) -> None:
    [node, *_], events = sims
    node.sensor.faults.stuck_raw = celsius_to_raw(36.61)
    for body in (36.2, 36.9, 37.1, 36.4, 36.6, 36.8, 36.3, 36.5):
        node.person_arrives(body)
    hub.feed(*events)
    [alert] = hub.active("thermometer_stuck")
    assert alert.node_id == node.config.node_id
    events.clear()
    node.sensor.faults.stuck_raw = None  # reseated connector
    node.person_arrives(36.4)
    hub.feed(*events)
    assert hub.active("thermometer_stuck") == []


def test_a_drifting_sensor_is_found_against_its_peers(
    hub: Hub, sims: tuple[list[SimNode], list[Event]]
) -> None:
    nodes, events = sims
    nodes[3].sensor.faults.drift_c_per_read = 0.05  # ageing part, creeping up
    for person in range(12):
        for node in nodes:
            node.person_arrives(36.4 + (person % 4) * 0.1)
    hub.feed(*events)
    [alert] = hub.active("thermometer_drift")
    assert alert.node_id == nodes[3].config.node_id
    assert alert.details["node_median_c"] - alert.details["ward_median_c"] > 1.0
