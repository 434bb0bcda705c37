"""On a real Raspberry Pi with the checkpoint wiring (``-m hardware``): the same Node with
its defaults (gpiozero's pin factory, /dev/i2c-1, picamera2), nothing injected."""

from __future__ import annotations

import pytest

from checkpoint.contract.node.config import NodeConfig
from edge.events import MemoryEmitter
from edge.node import Node

pytestmark = pytest.mark.hardware


def test_the_real_node_measures_and_cycles_the_barrier() -> None:
    cfg = NodeConfig(node_id="bench-n1", checkpoint_id="bench", ward_id="bench")
    emitter = MemoryEmitter(cfg.node_id, cfg.checkpoint_id, cfg.ward_id)
    node = Node(cfg, emitter)
    try:
        m = node.remeasure()
        assert 10.0 < m.ambient_c < 45.0  # the room, through the real PEC-checked bus
        motion = node.barrier_test()
        assert motion.fault is None
        health = node.health()
        assert health.cpu_temp_c is not None
        assert "camera_fault" not in health.flags
    finally:
        node.close()
