"""Fixtures for node tests: a fresh MockFactory per test (always closed), a MemoryEmitter,
and whole virtual nodes (real node code, MockFactory pins, emulated parts)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from edge.events import MemoryEmitter
from edge.sim.node import SimNode, node_config
from tests.edge.simnodes import MakeNode


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    made = MockFactory()
    yield made
    made.close()


@pytest.fixture
def emitter(unique: str) -> MemoryEmitter:
    return MemoryEmitter(f"{unique}-n1", f"{unique}-cp", unique)


@pytest.fixture
def make_node(unique: str) -> Iterator[MakeNode]:
    """``make_node(section={...}, zone_level=...)``: a SimNode with config overrides."""
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
