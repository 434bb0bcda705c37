"""Manual overrides far above a checkpoint's usual: a barrier opened by hand too often.

Overrides are counted per checkpoint over a sliding ``override_window_s``. What is usual is
learned as an EWMA of the counts of past windows (weight ``traffic_alpha``). The alert
holds while the sliding count reaches ``override_rate_min`` and ``override_rate_factor``
times the usual count, and clears when it falls below.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from checkpoint.contract import Event, Passage
from checkpoint.contract.models import Decision
from hub.alerts.signals import Clear, Raise, Signal
from hub.rules.base import Latch, Rule, checkpoint_subject
from hub.rules.config import RulesConfig

KIND = "override_rate"
MAX_ROLLS = 48  # windows caught up at once after a long silence; the EWMA is ~0 by then


@dataclass(slots=True)
class _Checkpoint:
    window_start: datetime
    in_window: int = 0  # overrides in the current learning window
    usual: float = 0.0
    recent: deque[datetime] = field(default_factory=deque)


class OverrideRateRule(Rule):
    consumes = (Passage,)

    def __init__(self, config: RulesConfig) -> None:
        super().__init__(config)
        self._cps: dict[str, _Checkpoint] = {}
        self._latch = Latch()

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        if not isinstance(event, Passage) or event.decision != Decision.OVERRIDE:
            return []
        th = self.th(event.ward_id)
        window = timedelta(seconds=th.override_window_s)
        cp = self._cps.setdefault(event.checkpoint_id, _Checkpoint(event.ts))
        for _ in range(MAX_ROLLS):  # learn from every window that closed before this one
            if event.ts < cp.window_start + window:
                break
            cp.usual = th.traffic_alpha * cp.in_window + (1 - th.traffic_alpha) * cp.usual
            cp.in_window = 0
            cp.window_start += window
        else:
            cp.window_start = event.ts
        cp.in_window += 1
        cp.recent.append(event.ts)
        while cp.recent and cp.recent[0] <= event.ts - window:
            cp.recent.popleft()
        limit = max(th.override_rate_min, th.override_rate_factor * cp.usual)
        subject = checkpoint_subject(event)
        count = len(cp.recent)
        if count >= limit:
            return self._latch.raise_(
                Raise(
                    KIND,
                    "warning",
                    subject,
                    f"{count} manual overrides at {event.checkpoint_id} within "
                    f"{th.override_window_s / 60:.0f} min (usually {cp.usual:.1f})",
                    {"count": count, "usual": round(cp.usual, 2), "limit": limit},
                )
            )
        return self._latch.clear(Clear(KIND, subject, "overrides back to usual"))
