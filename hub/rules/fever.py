"""Fever at a checkpoint: raised only when the node's re-measurement confirmed it.

A single high first reading is not an alert (a hot helmet, sun on the forehead): the node
re-measures and sets ``temperature.fever`` only when the second one is high too.
"""

from __future__ import annotations

from datetime import datetime

from checkpoint.contract import Event, Passage
from hub.alerts.signals import Raise, Signal
from hub.rules.base import Rule, checkpoint_subject


class FeverRule(Rule):
    consumes = (Passage,)

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        if not isinstance(event, Passage) or event.temperature is None:
            return []
        t = event.temperature
        if not t.fever:
            return []
        return [
            Raise(
                "fever",
                "critical",
                checkpoint_subject(event),
                f"fever {t.second_c} °C confirmed at {event.checkpoint_id}",
                {
                    "first_c": t.first_c,
                    "second_c": t.second_c,
                    "threshold_c": t.threshold_c,
                    "event_id": event.id,
                    "node_id": event.node_id,
                    "direction": event.direction,
                },
                resolve_after_s=self.th(event.ward_id).fever_resolve_after_s,
            )
        ]
