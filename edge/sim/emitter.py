"""An emitter that publishes each event straight to the broker (until the outbox lands).

Unlike the outbox it is not durable: an event whose PUBACK does not come is counted in
``failed`` and logged, and the simulated node goes on deciding.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from checkpoint.contract import Event, uuid7
from checkpoint.contract.models import EventBase
from checkpoint.errors import CheckpointError
from edge.config import NodeConfig
from edge.events import E

log = logging.getLogger(__name__)


class PublishingEmitter:
    def __init__(
        self,
        config: NodeConfig,
        publish: Callable[[Event], None],
        *,
        on_event: Callable[[EventBase], None] | None = None,
    ) -> None:
        self.config = config
        self.publish = publish
        self.on_event = on_event
        self.failed = 0
        self.sent = 0
        self._seq = itertools.count()
        self._lock = threading.Lock()

    def emit(self, kind: type[E], /, **fields: Any) -> E:
        with self._lock:  # seq follows the order events are made, across threads
            event = kind(
                id=uuid7(),
                seq=next(self._seq),
                node_id=self.config.node_id,
                checkpoint_id=self.config.checkpoint_id,
                ward_id=self.config.ward_id,
                ts=datetime.now(UTC),
                **fields,
            )
        try:
            self.publish(event)  # type: ignore[arg-type]
            self.sent += 1
        except (CheckpointError, OSError) as exc:
            self.failed += 1
            log.warning("%s: event %s not delivered: %s", self.config.node_id, event.id, exc)
        if self.on_event is not None:
            self.on_event(event)
        return event
