"""A whole virtual node (real node code, MockFactory pins, emulated parts) per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from edge.events import MemoryEmitter
from edge.sim.node import SimNode, node_config

MakeNode = Callable[..., SimNode]


@pytest.fixture
def make_node(unique: str) -> Iterator[MakeNode]:
    made: list[SimNode] = []

    def make(**overrides: Any) -> SimNode:
        cfg = node_config(unique, len(made) + 1)
        data = cfg.model_dump()
        for section, values in overrides.items():
            if isinstance(values, dict):
                data[section].update(values)
            else:
                data[section] = values
        cfg = type(cfg).model_validate(data)
        node = SimNode(cfg, MemoryEmitter(cfg.node_id, cfg.checkpoint_id, cfg.ward_id))
        made.append(node)
        return node

    yield make
    for node in made:
        node.close()


def states(node: SimNode, pin: int) -> list[bool]:
    return [s.state for s in node.factory.pin(pin).states]


def emitted(node: SimNode) -> MemoryEmitter:
    emitter = node.node.emitter
    assert isinstance(emitter, MemoryEmitter)
    return emitter
