"""How node code emits events: it names the event type and its fields; the emitter adds
the envelope (id, seq, node, checkpoint, ward, time) and makes the event durable.

The production emitter is the outbox (edge/uplink): the event is on disk, with its
sequence number, before ``emit`` returns. Tests of decision logic use MemoryEmitter.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from checkpoint.contract import Event, uuid7
from checkpoint.contract.models import EventBase

E = TypeVar("E", bound=EventBase)


class Emitter(Protocol):
    def emit(self, kind: type[E], /, **fields: Any) -> E:
        """Build a ``kind`` event from ``fields`` plus the envelope and record it durably."""
        ...


class MemoryEmitter:
    """Keeps events in a list; for tests and for code that has no outbox yet."""

    def __init__(
        self,
        node_id: str,
        checkpoint_id: str,
        ward_id: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sink: Callable[[Event], None] | None = None,
    ) -> None:
        self.node_id = node_id
        self.checkpoint_id = checkpoint_id
        self.ward_id = ward_id
        self.clock = clock
        self.sink = sink
        self.events: list[Event] = []
        self._seq = itertools.count()

    def emit(self, kind: type[E], /, **fields: Any) -> E:
        event = kind(
            id=uuid7(),
            seq=next(self._seq),
            node_id=self.node_id,
            checkpoint_id=self.checkpoint_id,
            ward_id=self.ward_id,
            ts=self.clock(),
            **fields,
        )
        self.events.append(event)  # type: ignore[arg-type]
        if self.sink is not None:
            self.sink(event)  # type: ignore[arg-type]
        return event
