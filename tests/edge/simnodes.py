"""Helpers for tests that run a whole virtual node (see the ``make_node`` fixture)."""

from __future__ import annotations

from collections.abc import Callable

from edge.events import MemoryEmitter
from edge.sim.node import SimNode

MakeNode = Callable[..., SimNode]


def states(node: SimNode, pin: int) -> list[bool]:
    """The states a pin went through (MockPin.states), oldest first."""
    return [s.state for s in node.factory.pin(pin).states]


def emitted(node: SimNode) -> MemoryEmitter:
    emitter = node.node.emitter
    assert isinstance(emitter, MemoryEmitter)
    return emitter
