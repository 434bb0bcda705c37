"""Traffic far off a checkpoint's usual level for that hour of the day.

Passages are counted per hour (ward local time, by the node's event time). When an hour
closes (a passage of a later hour arrives, or the hub's clock passes its end) its count is
compared with what the checkpoint usually sees at that hour: an EWMA per hour of day,
learned online. Only hours learned on ``traffic_min_samples`` days and usually busier than
``traffic_min_mean`` are judged, so a new checkpoint or a quiet night says nothing. The
learned levels are persisted: weeks of learning must survive a hub restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from checkpoint.contract import Event, Passage
from hub.alerts.signals import Clear, Raise, Signal, Subject
from hub.rules.base import Rule, checkpoint_subject
from hub.rules.config import RulesConfig

KIND = "traffic_anomaly"
HOUR = timedelta(hours=1)
_SAVE_EVERY = timedelta(seconds=30)


@dataclass(slots=True)
class _Checkpoint:
    ward_id: str
    bucket: datetime  # start of the open hour, UTC
    count: int = 0
    hours: dict[int, list[float]] = field(default_factory=dict)  # hour -> [mean, samples]


class TrafficRule(Rule):
    consumes = (Passage,)

    state_prefix = "traffic:"

    def __init__(self, config: RulesConfig) -> None:
        super().__init__(config)
        self._cps: dict[str, _Checkpoint] = {}
        self._dirty: set[str] = set()
        self._saved: dict[str, datetime] = {}  # when each checkpoint was last marked to save

    def _bucket(self, ts: datetime, ward_id: str) -> datetime:
        # Hours are aligned in local time; with a whole-hour offset (Vietnam) that is the
        # same as UTC, but a half-hour zone would shift the edges.
        offset = timedelta(hours=self.th(ward_id).utc_offset_h)
        local = ts.astimezone(UTC) + offset
        return local.replace(minute=0, second=0, microsecond=0) - offset

    def _local_hour(self, bucket: datetime, ward_id: str) -> int:
        return (bucket + timedelta(hours=self.th(ward_id).utc_offset_h)).hour

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        if not isinstance(event, Passage):
            return []
        bucket = self._bucket(event.ts, event.ward_id)
        cp = self._cps.get(event.checkpoint_id)
        if cp is None:
            cp = self._cps[event.checkpoint_id] = _Checkpoint(event.ward_id, bucket)
        before = cp.bucket
        out = self._advance(event.checkpoint_id, cp, bucket, checkpoint_subject(event))
        if bucket == cp.bucket:
            cp.count += 1
        # Saved when an hour closes (what was learned), else now and then: a restart then
        # loses at most _SAVE_EVERY of the open hour's count, and a busy checkpoint does
        # not rewrite its row with every passage.
        saved = self._saved.get(event.checkpoint_id)
        if cp.bucket != before or saved is None or now - saved >= _SAVE_EVERY:
            self._dirty.add(event.checkpoint_id)
            self._saved[event.checkpoint_id] = now
        return out

    def tick(self, now: datetime) -> list[Signal]:
        out: list[Signal] = []
        buckets: dict[str, datetime] = {}  # the open hour once per ward, not per checkpoint
        for cp_id, cp in self._cps.items():
            bucket = buckets.get(cp.ward_id)
            if bucket is None:
                bucket = buckets[cp.ward_id] = self._bucket(now, cp.ward_id)
            if bucket > cp.bucket:
                out += self._advance(cp_id, cp, bucket, Subject(cp.ward_id, cp_id))
                self._dirty.add(cp_id)
        return out

    def _advance(
        self, cp_id: str, cp: _Checkpoint, bucket: datetime, subject: Subject
    ) -> list[Signal]:
        """Close every hour before ``bucket`` (hours with no passage count zero)."""
        out: list[Signal] = []
        closed = 0
        while cp.bucket < bucket:
            if closed < 24:  # after a day-long gap, more zero hours teach nothing new
                out += self._close(cp, subject)
            closed += 1
            cp.bucket += HOUR
            cp.count = 0
        if closed > 24:
            cp.bucket = bucket
        return out[-1:]  # only the latest verdict matters to the alert

    def _close(self, cp: _Checkpoint, subject: Subject) -> list[Signal]:
        th = self.th(cp.ward_id)
        hour = self._local_hour(cp.bucket, cp.ward_id)
        learned = cp.hours.get(hour)
        out: list[Signal] = []
        if learned is not None and learned[1] >= th.traffic_min_samples:
            mean = learned[0]
            if mean >= th.traffic_min_mean:
                high = cp.count > mean * th.traffic_high_factor
                low = cp.count < mean * th.traffic_low_factor
                if high or low:
                    out.append(
                        Raise(
                            KIND,
                            "warning",
                            subject,
                            f"{cp.count} passages at {subject.checkpoint_id} in hour {hour}h, "
                            f"usually {mean:.0f}",
                            {"count": cp.count, "usual": round(mean, 1), "hour": hour},
                        )
                    )
                else:
                    out.append(Clear(KIND, subject, "traffic back to its usual level"))
        if learned is None:
            cp.hours[hour] = [float(cp.count), 1]
        else:
            alpha = th.traffic_alpha
            cp.hours[hour] = [alpha * cp.count + (1 - alpha) * learned[0], learned[1] + 1]
        return out

    def dirty_state(self) -> dict[str, Any]:
        out = {
            cp_id: {
                "ward_id": cp.ward_id,
                "bucket": cp.bucket.isoformat(),
                "count": cp.count,
                "hours": {str(h): v for h, v in cp.hours.items()},
            }
            for cp_id in self._dirty
            if (cp := self._cps.get(cp_id)) is not None
        }
        self._dirty.clear()
        return out

    def load_state(self, key: str, value: Any) -> None:
        self._cps[key] = _Checkpoint(
            value["ward_id"],
            datetime.fromisoformat(value["bucket"]).astimezone(UTC),
            int(value["count"]),
            {int(h): [float(v[0]), float(v[1])] for h, v in value["hours"].items()},
        )
