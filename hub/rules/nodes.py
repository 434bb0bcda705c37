"""Node offline and back online.

Offline is known two ways: the broker publishes the node's last will (status ``offline``)
when its connection dies, or its heartbeats (health events) stop arriving for
``heartbeat_timeout_s`` by the hub's clock (a half-open 4G link can keep a dead
connection up for a long time). A health event or an ``online`` status resolves it.

The registry (which ward and checkpoint a node belongs to, when it last reported) is
persisted: a status message names only the node, and a hub restarted while a node is
silent must still notice the silence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from checkpoint.contract import Event, Health, NodeStatus
from hub.alerts.signals import Clear, Raise, Signal, Subject
from hub.rules.base import Latch, Rule
from hub.rules.config import RulesConfig

log = logging.getLogger(__name__)
KIND = "node_offline"
_PERSIST_EVERY = timedelta(seconds=30)


@dataclass(slots=True)
class _Node:
    ward_id: str
    checkpoint_id: str
    last_heartbeat: datetime

    def subject(self, node_id: str) -> Subject:
        return Subject(self.ward_id, self.checkpoint_id, node_id)


class NodeOfflineRule(Rule):
    state_prefix = "node:"

    def __init__(self, config: RulesConfig) -> None:
        super().__init__(config)
        self._nodes: dict[str, _Node] = {}
        self._dirty: set[str] = set()
        self._saved: dict[str, datetime] = {}  # heartbeat time last persisted, per node
        self._latch = Latch()

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        node = self._nodes.get(event.node_id)
        if node is None:
            node = _Node(event.ward_id, event.checkpoint_id, now)
            self._nodes[event.node_id] = node
            self._dirty.add(event.node_id)
        if (node.ward_id, node.checkpoint_id) != (event.ward_id, event.checkpoint_id):
            node.ward_id, node.checkpoint_id = event.ward_id, event.checkpoint_id
            self._dirty.add(event.node_id)
        if isinstance(event, Health):
            # Persist the heartbeat time coarsely: a restarted hub that believes a node
            # was heard a little earlier than it was only warns that much sooner.
            node.last_heartbeat = now
            saved = self._saved.get(event.node_id)
            if saved is None or now - saved >= _PERSIST_EVERY:
                self._dirty.add(event.node_id)
            return self._latch.clear(Clear(KIND, node.subject(event.node_id), "heartbeat"))
        return []

    def on_status(self, status: NodeStatus, now: datetime) -> list[Signal]:
        node = self._nodes.get(status.node_id)
        if node is None:
            # Without an event we know neither ward nor checkpoint: nowhere to send it.
            log.info("status %s of unknown node %s ignored", status.state, status.node_id)
            return []
        subject = node.subject(status.node_id)
        if status.state == "online":
            node.last_heartbeat = now
            self._dirty.add(status.node_id)
            return self._latch.clear(Clear(KIND, subject, "online again"))
        return self._latch.raise_(
            Raise(
                KIND,
                "warning",
                subject,
                f"node {status.node_id} at {node.checkpoint_id} went offline (last will)",
                {"reason": "last_will"},
            )
        )

    def tick(self, now: datetime) -> list[Signal]:
        out: list[Signal] = []
        # A city's nodes, every tick: the deadline once per ward, a subject only for a
        # node that is silent.
        deadlines: dict[str, datetime] = {}
        for node_id, node in self._nodes.items():
            deadline = deadlines.get(node.ward_id)
            if deadline is None:
                timeout = timedelta(seconds=self.th(node.ward_id).heartbeat_timeout_s)
                deadline = deadlines[node.ward_id] = now - timeout
            if node.last_heartbeat > deadline:
                continue
            subject = node.subject(node_id)
            if not self._latch.is_on(subject, KIND):
                silent = (now - node.last_heartbeat).total_seconds()
                out += self._latch.raise_(
                    Raise(
                        KIND,
                        "warning",
                        subject,
                        f"node {node_id} at {node.checkpoint_id} silent for {silent:.0f}s",
                        {"reason": "heartbeats_missed", "silent_s": round(silent)},
                    )
                )
        return out

    def dirty_state(self) -> dict[str, Any]:
        for node_id in self._dirty:
            if (n := self._nodes.get(node_id)) is not None:
                self._saved[node_id] = n.last_heartbeat
        out = {
            node_id: {
                "ward_id": n.ward_id,
                "checkpoint_id": n.checkpoint_id,
                "last_heartbeat": n.last_heartbeat.isoformat(),
            }
            for node_id in self._dirty
            if (n := self._nodes.get(node_id)) is not None
        }
        self._dirty.clear()
        return out

    def load_state(self, key: str, value: Any) -> None:
        self._nodes[key] = _Node(
            value["ward_id"],
            value["checkpoint_id"],
            datetime.fromisoformat(value["last_heartbeat"]).astimezone(UTC),
        )
