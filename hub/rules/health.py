"""Node health from its heartbeat: clock skew, outbox backlog growing, CPU and disk.

Clock skew compares the event's time with the hub's receive time. An event replayed from
the outbox after an outage is legitimately old, so a *late* clock is judged only on health
reports sent with an empty outbox; an event from the future is always judged. A report can
also be old because it waited at the broker (the hub away or behind: InfluxDB down, a
share-group member dead), which the node cannot know. So a late clock is raised only when
two reports in a row are late and arrived about as far apart as they were sent, and never
while the hub's intake is full or has just been: a backlog drained after an outage can
arrive at nearly the pace it was made, and only the hub knows that it is draining one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from checkpoint.contract import Event, Health
from hub.alerts.signals import Clear, Raise, Signal, Subject
from hub.rules.base import Latch, Rule, node_subject
from hub.rules.config import RulesConfig

# A message that waited at the broker arrives at most a window's worth of messages after
# the hub's intake was last full; ten seconds covers that at any rate the hub drains.
DRAIN_SETTLE = timedelta(seconds=10)


def _never() -> datetime | None:
    return None


class NodeHealthRule(Rule):
    def __init__(self, config: RulesConfig) -> None:
        super().__init__(config)
        #: When the hub's intake was last full (messages then wait at the broker), or None.
        self.intake_full_at: Callable[[], datetime | None] = _never
        self._depths: dict[str, deque[int]] = {}
        # node -> (time, hub's receive time, late?) of its last health report
        self._last_report: dict[str, tuple[datetime, datetime, bool]] = {}
        self._latch = Latch()

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        out: list[Signal] = self._future_skew(event, now)
        if isinstance(event, Health):
            out += self._skew(event, now)
            out += self._backlog(event)
            out += self._cpu(event)
            out += self._disk(event)
        return self._latch.apply(out)

    def _future_skew(self, event: Event, now: datetime) -> list[Signal]:
        ahead = (event.ts - now).total_seconds()
        if ahead > self.th(event.ward_id).max_clock_skew_s:
            return [self._skew_signal(node_subject(event), ahead)]
        return []

    def _skew(self, event: Health, now: datetime) -> list[Signal]:
        skew = (event.ts - now).total_seconds()
        subject = node_subject(event)
        limit = self.th(event.ward_id).max_clock_skew_s
        previous = self._last_report.get(event.node_id)
        self._last_report[event.node_id] = (event.ts, now, skew < -limit)
        late = skew < -limit and event.outbox_depth == 0 and not self._draining(now)
        if skew > limit or (late and self._late_at_pace(previous, event.ts, now)):
            return [self._skew_signal(subject, skew)]
        if abs(skew) <= limit:
            return [Clear("clock_skew", subject, "clock agrees again")]
        return []

    def _draining(self, now: datetime) -> bool:
        """The hub's intake is full or was a moment ago: what arrives may have waited."""
        full_at = self.intake_full_at()
        return full_at is not None and now - full_at < DRAIN_SETTLE

    @staticmethod
    def _late_at_pace(
        previous: tuple[datetime, datetime, bool] | None, ts: datetime, now: datetime
    ) -> bool:
        """The node's previous report was late too, and the two arrived at least half as
        far apart as they were sent. Reports drained from a broker queue arrive much
        faster than the node made them, and the first of them follows an on-time one."""
        if previous is None:
            return False  # one late report could have waited at the broker
        previous_ts, previous_now, previous_late = previous
        return previous_late and (now - previous_now) >= (ts - previous_ts) / 2

    @staticmethod
    def _skew_signal(subject: Subject, skew: float) -> Raise:
        return Raise(
            "clock_skew",
            "warning",
            subject,
            f"node {subject.node_id} clock is {skew:+.0f}s off the hub",
            {"skew_s": round(skew, 1)},
        )

    def _backlog(self, event: Health) -> list[Signal]:
        th = self.th(event.ward_id)
        depths = self._depths.setdefault(event.node_id, deque(maxlen=th.backlog_rising_reports))
        depths.append(event.outbox_depth)
        subject = node_subject(event)
        rising = len(depths) == depths.maxlen and all(
            a < b for a, b in zip(depths, list(depths)[1:], strict=False)
        )
        if rising and event.outbox_depth >= th.backlog_min_depth:
            return [
                Raise(
                    "outbox_backlog",
                    "warning",
                    subject,
                    f"node {event.node_id} outbox growing: {event.outbox_depth} events queued",
                    {"outbox_depth": event.outbox_depth, "trend": list(depths)},
                )
            ]
        if event.outbox_depth < th.backlog_min_depth:
            return [Clear("outbox_backlog", subject, "outbox drained")]
        return []

    def _cpu(self, event: Health) -> list[Signal]:
        if event.cpu_temp_c is None:
            return []
        th = self.th(event.ward_id)
        subject = node_subject(event)
        if event.cpu_temp_c >= th.cpu_temp_critical_c:
            return [
                Raise(
                    "cpu_temp_critical",
                    "critical",
                    subject,
                    f"node {event.node_id} CPU at {event.cpu_temp_c:.0f} °C",
                    {"cpu_temp_c": event.cpu_temp_c},
                )
            ]
        if event.cpu_temp_c < th.cpu_temp_critical_c - th.cpu_temp_hysteresis_c:
            return [Clear("cpu_temp_critical", subject, "CPU cooled down")]
        return []

    def _disk(self, event: Health) -> list[Signal]:
        th = self.th(event.ward_id)
        subject = node_subject(event)
        if event.disk_free_bytes < th.disk_free_min_bytes or "disk_full" in event.flags:
            return [
                Raise(
                    "disk_critical",
                    "critical",
                    subject,
                    f"node {event.node_id} disk nearly full: {event.disk_free_bytes} bytes free",
                    {"disk_free_bytes": event.disk_free_bytes, "flags": event.flags},
                )
            ]
        return [Clear("disk_critical", subject, "disk space recovered")]
