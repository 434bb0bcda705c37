"""Pass anomalies across passages: refusals in a burst at one checkpoint, and the same pass
at two checkpoints sooner than a person could walk between them (a cloned QR code).

Both use the node's event time (a burst replayed from an outbox is still a burst).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from checkpoint.contract import Event, Passage
from checkpoint.contract.models import Decision
from hub.alerts.signals import Clear, Raise, Signal, Subject
from hub.rules.base import Latch, Rule, checkpoint_subject
from hub.rules.config import RulesConfig


class RefusedBurstRule(Rule):
    consumes = (Passage,)

    def __init__(self, config: RulesConfig) -> None:
        super().__init__(config)
        self._refusals: dict[str, deque[datetime]] = {}
        self._subjects: dict[str, Subject] = {}
        self._latch = Latch()

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        if not isinstance(event, Passage):
            return []
        th = self.th(event.ward_id)
        window = timedelta(seconds=th.refused_burst_window_s)
        subject = checkpoint_subject(event)
        self._subjects[event.checkpoint_id] = subject
        times = self._refusals.setdefault(event.checkpoint_id, deque())
        if event.decision == Decision.REFUSE:
            times.append(event.ts)
        while times and times[0] < event.ts - window:
            times.popleft()
        if len(times) >= th.refused_burst_count:
            return self._latch.raise_(
                Raise(
                    "refused_burst",
                    "warning",
                    subject,
                    f"{len(times)} refusals within {th.refused_burst_window_s:.0f}s "
                    f"at {event.checkpoint_id}",
                    {"refusals": len(times), "last_reason": event.reason.value},
                )
            )
        if event.decision == Decision.ADMIT and len(times) < th.refused_burst_count / 2:
            return self._latch.clear(Clear("refused_burst", subject, "refusals back to normal"))
        return []

    def tick(self, now: datetime) -> list[Signal]:
        out: list[Signal] = []
        for checkpoint_id, times in self._refusals.items():
            subject = self._subjects[checkpoint_id]
            if not self._latch.is_on(subject, "refused_burst"):
                continue  # most checkpoints, every tick
            window = timedelta(seconds=self.th(subject.ward_id).refused_burst_window_s)
            if not times or times[-1] < now - window:
                times.clear()
                out += self._latch.clear(Clear("refused_burst", subject, "no refusals lately"))
        return out


@dataclass(frozen=True, slots=True)
class _Use:
    checkpoint_id: str
    ts: datetime


class ClonedPassRule(Rule):
    consumes = (Passage,)

    def __init__(self, config: RulesConfig) -> None:
        super().__init__(config)
        self._last: dict[str, _Use] = {}

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        if not isinstance(event, Passage) or event.pass_check is None:
            return []
        pass_id = event.pass_check.pass_id
        if pass_id is None:
            return []
        th = self.th(event.ward_id)
        before = self._last.get(pass_id)
        use = _Use(event.checkpoint_id, event.ts)
        if before is None or before.ts <= event.ts:
            self._last[pass_id] = use
        if before is None or before.checkpoint_id == event.checkpoint_id:
            return []
        gap = abs((event.ts - before.ts).total_seconds())
        if gap >= th.clone_min_travel_s:
            return []
        return [
            Raise(
                "cloned_pass",
                "critical",
                checkpoint_subject(event),
                f"pass used at {before.checkpoint_id} and {event.checkpoint_id} {gap:.0f}s apart",
                {
                    "pass_id": pass_id,
                    "first_checkpoint_id": before.checkpoint_id,
                    "second_checkpoint_id": event.checkpoint_id,
                    "gap_s": round(gap, 1),
                    "event_id": event.id,
                },
                resolve_after_s=th.incident_resolve_after_s,
            )
        ]

    def tick(self, now: datetime) -> list[Signal]:
        # Forget uses too old to matter, so memory follows traffic, not history.
        horizon = now - timedelta(seconds=self.config.defaults.clone_min_travel_s * 2)
        for pass_id in [p for p, u in self._last.items() if u.ts < horizon]:
            del self._last[pass_id]
        return []


RevokedAt = Callable[[str], datetime | None]


class RevokedPassAdmittedRule(Rule):
    """A node admitted a pass that had been revoked before the decision (it decided offline,
    or its revocation list lagged): the command centre must know who got in."""

    consumes = (Passage,)

    def __init__(self, config: RulesConfig, revoked_at: RevokedAt) -> None:
        super().__init__(config)
        self.revoked_at = revoked_at

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        if not isinstance(event, Passage) or event.decision != Decision.ADMIT:
            return []
        check = event.pass_check
        if check is None or check.pass_id is None:
            return []
        revoked = self.revoked_at(check.pass_id)
        if revoked is None or revoked > event.ts:
            return []
        th = self.th(event.ward_id)
        late = (event.ts - revoked).total_seconds()
        return [
            Raise(
                "revoked_pass_admitted",
                "critical",
                checkpoint_subject(event),
                f"pass {check.pass_id} admitted {late:.0f}s after it was revoked",
                {
                    "pass_id": check.pass_id,
                    "revoked_at": revoked.isoformat(),
                    "revocation_version": check.revocation_version,
                    "trust_age_s": check.trust_age_s,
                    "event_id": event.id,
                },
                resolve_after_s=th.incident_resolve_after_s,
            )
        ]
