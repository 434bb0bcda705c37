"""A checkpoint lane with nobody on duty during one of its planned shifts.

Each node's health report says which shift its plan (zone policy ``shifts``) puts now, and
which operator is signed in there with a badge. A report inside a shift with nobody signed
in raises ``checkpoint_unmanned``; a report with an operator, or outside every shift,
clears it.
"""

from __future__ import annotations

from datetime import datetime

from checkpoint.contract import Event, Health
from hub.alerts.signals import Clear, Raise, Signal
from hub.rules.base import Latch, Rule, node_subject
from hub.rules.config import RulesConfig

KIND = "checkpoint_unmanned"


class UnmannedRule(Rule):
    consumes = (Health,)

    def __init__(self, config: RulesConfig) -> None:
        super().__init__(config)
        self._latch = Latch()

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        if not isinstance(event, Health):
            return []
        subject = node_subject(event)
        if event.shift is not None and event.operator is None:
            return self._latch.raise_(
                Raise(
                    KIND,
                    "warning",
                    subject,
                    f"nobody signed in at {event.checkpoint_id} during shift {event.shift}",
                    {"shift": event.shift},
                )
            )
        why = "operator signed in" if event.operator else "outside the planned shifts"
        return self._latch.clear(Clear(KIND, subject, why))
