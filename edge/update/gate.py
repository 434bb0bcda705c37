"""The health gate a freshly switched version must pass: connected to the broker, outbox
readable, thermometer and frame source answering, and one self-test measurement decided
(the ``remeasure`` command: a checked reading, emitted like any other)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from checkpoint.contract.models import CommandName
from checkpoint.errors import CheckpointError
from edge.runtime_node import NODE_COMMANDS, NodeLike

# Node flags that mean a part the node decides with is not answering.
GATE_FAULTS = ("thermometer_fault", "camera_fault")


@dataclass(frozen=True)
class GateParts:
    connected: Callable[[], bool]
    outbox_depth: Callable[[], int]
    node: Callable[[], NodeLike | None]


def gate_problem(parts: GateParts) -> str | None:
    """What keeps the gate shut now, or None once every check passed."""
    if not parts.connected():
        return "not connected to the broker"
    try:
        parts.outbox_depth()
    except Exception as exc:  # noqa: BLE001 - any failure to read the outbox shuts the gate
        return f"outbox unreadable: {type(exc).__name__}: {exc}"
    node = parts.node()
    if node is None:
        return "the node did not start"
    faults = [f for f in node.flags() if f in GATE_FAULTS]
    if faults:
        return f"node reports {', '.join(faults)}"
    try:
        NODE_COMMANDS[CommandName.REMEASURE](node, {})
    except (CheckpointError, OSError, RuntimeError, TimeoutError, ValueError) as exc:
        return f"self-test measurement failed: {type(exc).__name__}: {exc}"
    faults = [f for f in node.flags() if f in GATE_FAULTS]
    return f"node reports {', '.join(faults)}" if faults else None
