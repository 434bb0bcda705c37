"""Barrier alarms reported by the node: forced open, held open, actuator faults.

The node's ``cleared`` alarm clears them all. A forced opening is an incident that also
resolves by itself after a quiet spell (the node may never see the barrier "fixed").
"""

from __future__ import annotations

from datetime import datetime

from checkpoint.contract import BarrierAlarm, Event, Passage
from checkpoint.contract.models import BarrierAlarmKind, Decision
from hub.alerts.signals import Clear, Raise, Severity, Signal
from hub.rules.base import Rule, node_subject
from hub.rules.config import RulesConfig

_FAULTS = {BarrierAlarmKind.OPEN_FAILED, BarrierAlarmKind.CLOSE_FAILED, BarrierAlarmKind.CHATTER}
KINDS = ("barrier_forced_open", "barrier_held_open", "barrier_fault")


# alarm -> (alert kind, severity, incident?)
_ALARMS: dict[BarrierAlarmKind, tuple[str, Severity, bool]] = {
    BarrierAlarmKind.FORCED_OPEN: ("barrier_forced_open", "critical", True),
    BarrierAlarmKind.HELD_OPEN: ("barrier_held_open", "warning", False),
    **{k: ("barrier_fault", "warning", False) for k in _FAULTS},
}


class BarrierRule(Rule):
    consumes = (Passage, BarrierAlarm)

    def __init__(self, config: RulesConfig) -> None:
        super().__init__(config)
        self._overridden: dict[str, datetime] = {}  # node -> its last override

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        if isinstance(event, Passage):
            if event.decision == Decision.OVERRIDE:
                self._overridden[event.node_id] = event.ts
            return self._passage(event)
        if not isinstance(event, BarrierAlarm):
            return []
        if event.kind == BarrierAlarmKind.FORCED_OPEN and self._under_override(event):
            return []  # the operator opened it by hand under override: recorded, no alarm
        subject = node_subject(event)
        if event.kind == BarrierAlarmKind.CLEARED:
            return [Clear(kind, subject, "barrier cleared") for kind in KINDS]
        kind, severity, incident = _ALARMS[event.kind]
        th = self.th(event.ward_id)
        return [
            Raise(
                kind,
                severity,
                subject,
                f"barrier {event.kind.value.replace('_', ' ')} at {event.checkpoint_id}"
                + (f" ({event.duration_s:.0f}s)" if event.duration_s else ""),
                {"alarm": event.kind.value, "duration_s": event.duration_s, "detail": event.detail},
                resolve_after_s=th.incident_resolve_after_s if incident else None,
            )
        ]

    def _under_override(self, event: BarrierAlarm) -> bool:
        last = self._overridden.get(event.node_id)
        grace = self.th(event.ward_id).override_grace_s
        # The override passage is emitted once the barrier closed again: a lift under the
        # key (by a node whose supervisor did not know the key) comes just before it.
        return last is not None and abs((event.ts - last).total_seconds()) <= grace

    @staticmethod
    def _passage(event: Passage) -> list[Signal]:
        if event.barrier is None or not event.barrier.fault:
            return []
        return [
            Raise(
                "barrier_fault",
                "warning",
                node_subject(event),
                f"barrier fault at {event.node_id}: {event.barrier.fault}",
                {"fault": event.barrier.fault, "event_id": event.id},
            )
        ]
