"""What every rule is: it sees events, node statuses and the passing of time, and answers
with signals. Rules keep their windows in memory; what must survive a restart they hand
to the engine as JSON by key (``dirty_state``) and get back at start (``load_state``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from checkpoint.contract import Event, NodeStatus
from hub.alerts.signals import Clear, Raise, Signal, Subject
from hub.rules.config import RulesConfig, Thresholds


def node_subject(event: Event) -> Subject:
    return Subject(event.ward_id, event.checkpoint_id, event.node_id)


def checkpoint_subject(event: Event) -> Subject:
    return Subject(event.ward_id, event.checkpoint_id)


class Rule:
    """Base with no-op hooks; a rule overrides the ones it needs."""

    #: Prefix of this rule's keys in the ``rule_state`` table.
    state_prefix = ""
    #: The event types ``on_event`` looks at (None: every event). The engine calls a rule
    #: only for these: most events are readings, which most rules ignore.
    consumes: tuple[type[Event], ...] | None = None

    def __init__(self, config: RulesConfig) -> None:
        self.config = config

    def th(self, ward_id: str) -> Thresholds:
        return self.config.for_ward(ward_id)

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        return []

    def on_status(self, status: NodeStatus, now: datetime) -> list[Signal]:
        return []

    def tick(self, now: datetime) -> list[Signal]:
        return []

    def dirty_state(self) -> dict[str, Any]:
        """State changed since the last call, by key (without the prefix)."""
        return {}

    def load_state(self, key: str, value: Any) -> None:
        """Restore one key saved by ``dirty_state``."""


class Latch:
    """Edge-triggers a condition: Raise once when it starts holding, Clear once when it stops.

    A condition evaluated on every reading would otherwise fold each evaluation into the
    alert's count and send an update each time. After a restart the state is unknown, so
    the first Clear goes through (the store ignores a Clear with nothing open).
    """

    def __init__(self) -> None:
        self._on: dict[tuple[str, str], bool] = {}

    def raise_(self, signal: Raise) -> list[Signal]:
        return [signal] if self.flips(signal.subject.key, signal.kind, True) else []

    def clear(self, signal: Clear) -> list[Signal]:
        return [signal] if self.flips(signal.subject.key, signal.kind, False) else []

    def flips(self, subject_key: str, kind: str, on: bool) -> bool:
        """Record that the condition holds (``on``) or not; True if that is news, so the
        caller builds its Raise or Clear only then (most evaluations change nothing)."""
        key = (subject_key, kind)
        if self._on.get(key) is on:
            return False
        self._on[key] = on
        return True

    def is_on(self, subject: Subject, kind: str) -> bool:
        return self._on.get((subject.key, kind)) is True

    def apply(self, signals: list[Signal]) -> list[Signal]:
        out: list[Signal] = []
        for s in signals:
            out += self.raise_(s) if isinstance(s, Raise) else self.clear(s)
        return out
