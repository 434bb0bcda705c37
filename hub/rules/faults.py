"""Node faults the node reports as flags in its health event (``Health.flags``).

Each flag holds while the fault lasts: a health report that carries it raises the alert, the
first report without it clears it. The node sets them itself (edge/node.py,
edge/service.py, edge/trust/store.py, edge/uplink/link.py), so the hub only reads them.

``auth_refused`` is a flag the node can only report after the fact: while the broker
refuses it, its health reports wait in its outbox. They arrive once it is let in again,
the one taken during the refusal raising the alert and the next one clearing it, so the
command centre sees that (and when) it happened.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from checkpoint.contract import Event, Health
from hub.alerts.signals import Clear, Raise, Severity, Signal
from hub.rules.base import Latch, Rule, node_subject
from hub.rules.config import RulesConfig


class Fault(NamedTuple):
    kind: str  # the alert kind
    severity: Severity
    raised: str  # the alert's summary, after "node <id>: "
    cleared: str  # the reason given when it clears


# flag in Health.flags -> the alert it raises
FAULTS: dict[str, Fault] = {
    "thermometer_fault": Fault(
        "thermometer_fault",
        "critical",
        "thermometer bus fault: no temperature screening",
        "thermometer reads again",
    ),
    "camera_fault": Fault(
        "camera_fault", "critical", "camera fault: passes cannot be read", "camera works again"
    ),
    "trust_stale": Fault(
        "trust_stale",
        "warning",
        "trust lists stale: passes are checked against old keys and revocations",
        "trust lists fresh again",
    ),
    "revocations_gap": Fault(
        "revocations_gap",
        "warning",
        "revocation list has a gap: waiting for a full snapshot",
        "revocation list complete again",
    ),
    "config_refused": Fault(
        "config_refused",
        "warning",
        "refused the pushed config: it runs its previous one",
        "a config was applied",
    ),
    "auth_refused": Fault(
        "auth_refused",
        "critical",
        "the broker refused its credentials",
        "the broker accepts it again",
    ),
}


class NodeFaultRule(Rule):
    consumes = (Health,)

    def __init__(self, config: RulesConfig) -> None:
        super().__init__(config)
        self._latch = Latch()
        self._last: dict[str, datetime] = {}  # node -> time of the newest report judged

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        if not isinstance(event, Health):
            return []
        last = self._last.get(event.node_id)
        if last is not None and event.ts < last:
            return []  # an older report arriving late says nothing about now
        self._last[event.node_id] = event.ts
        subject = node_subject(event)
        out: list[Signal] = []
        for flag, fault in FAULTS.items():
            on = flag in event.flags
            if not self._latch.flips(subject.key, fault.kind, on):
                continue
            if on:
                summary = f"node {event.node_id} at {event.checkpoint_id}: {fault.raised}"
                details = {"flag": flag, "config_version": event.config_version}
                out.append(Raise(fault.kind, fault.severity, subject, summary, details))
            else:
                out.append(Clear(fault.kind, subject, fault.cleared))
        return out
