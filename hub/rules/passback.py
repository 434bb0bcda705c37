"""Anti-passback across a zone: a pass admitted "in" twice with no "out" between, at
checkpoints of one zone. A node refuses this itself for its own lanes (reason
``passback``); only the hub sees two checkpoints of a zone together.

The zone is the passage's ``zone_id``; passages without one are not judged. An unmatched
"in" is forgotten after ``passback_forget_s``; at most ``MAX_PASSES`` are remembered.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from checkpoint.contract import Event, Passage
from checkpoint.contract.models import Decision
from hub.alerts.signals import Raise, Signal
from hub.rules.base import Rule, checkpoint_subject
from hub.rules.config import RulesConfig

KIND = "passback"
MAX_PASSES = 200_000


class PassbackRule(Rule):
    consumes = (Passage,)

    def __init__(self, config: RulesConfig) -> None:
        super().__init__(config)
        # (ward, zone, pass id) -> (checkpoint, time) of its unmatched "in"
        self._inside: OrderedDict[tuple[str, str, str], tuple[str, datetime]] = OrderedDict()

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        if (
            not isinstance(event, Passage)
            or event.decision != Decision.ADMIT
            or event.zone_id is None
            or event.pass_check is None
            or event.pass_check.pass_id is None
        ):
            return []
        key = (event.ward_id, event.zone_id, event.pass_check.pass_id)
        before = self._inside.pop(key, None)
        if event.direction == "out":
            return []
        self._inside[key] = (event.checkpoint_id, event.ts)
        while len(self._inside) > MAX_PASSES:
            self._inside.popitem(last=False)
        th = self.th(event.ward_id)
        if before is None or (event.ts - before[1]).total_seconds() > th.passback_forget_s:
            return []
        first_cp, first_at = before
        return [
            Raise(
                KIND,
                "warning",
                checkpoint_subject(event),
                f"pass {key[2]} came into zone {event.zone_id} at {event.checkpoint_id} "
                f"without leaving since it came in at {first_cp}",
                {
                    "pass_id": key[2],
                    "zone_id": event.zone_id,
                    "first_checkpoint": first_cp,
                    "first_at": first_at.isoformat(),
                    "event_id": event.id,
                },
                resolve_after_s=th.incident_resolve_after_s,
            )
        ]
