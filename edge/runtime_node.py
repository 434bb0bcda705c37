"""What the node runtime (edge/service.py) asks of the node it runs, and the command table.

``edge.node.Node`` is the real one; the simulator's ``SimNode`` and test doubles implement
the same protocol, so the runtime never probes a node for what it can do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from checkpoint.contract.models import CommandName, Health
from checkpoint.contract.node.config import NodeConfig
from checkpoint.errors import CheckpointError
from edge.events import Emitter


class CommandUnsupportedError(CheckpointError, NotImplementedError):
    """This node cannot carry out a command (a simulator or test double without it)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"this node does not support {name}")


class NodeLike(Protocol):
    """The real ``Node`` implements every method. The bodies here are the least a node may
    answer (rebuilt on every config, health left to the runtime, no flags, nobody on duty,
    no command carried out): a node other than the real one subclasses NodeLike to take
    them, overrides what it does have, and must add ``close``."""

    def reconfigure(self, config: NodeConfig) -> bool:
        """Apply a validated config in place and return True, or return False when this
        node must be rebuilt on it instead; raise ConfigError when it cannot run it."""
        return False

    def remeasure(self) -> object:
        """Hub command ``remeasure``; the result's text is the command's detail."""
        raise CommandUnsupportedError("remeasure")

    def barrier_test(self) -> object:
        """Hub command ``barrier_test``."""
        raise CommandUnsupportedError("barrier_test")

    def flags(self) -> list[str]:
        """The node's own trouble now (``thermometer_fault``, ``camera_fault`` ...)."""
        return []

    def health(
        self,
        *,
        outbox_depth: int,
        outbox_dropped: int,
        extra_flags: list[str],
        levels_version: int | None,
        policy_version: int | None,
    ) -> Health | None:
        """Emit a health event with what only the node knows (camera rate, sensor errors,
        its own flags), or return None and let the runtime report what it knows."""
        return None

    def on_duty(self) -> tuple[str | None, str | None]:
        """The operator signed in with a badge, and the planned shift now."""
        return None, None

    def close(self) -> None: ...


NodeFactory = Callable[[NodeConfig, Emitter], NodeLike]

# The hub's commands a node carries out (``reload_config`` is the runtime's own). A new
# CommandName needs a line here, or the node answers it as unsupported.
NODE_COMMANDS: dict[CommandName, Callable[[NodeLike, dict[str, Any]], object]] = {
    CommandName.REMEASURE: lambda node, args: node.remeasure(**args),
    CommandName.BARRIER_TEST: lambda node, args: node.barrier_test(**args),
}
