"""A ward's day in figures, gathered from InfluxDB: passages by shift, decision and reason,
fevers, overrides, node availability, and the alerts raised and acknowledged.

Days and shifts are local (``reports.utc_offset_h``) and on whole hours, so the hourly
counts InfluxDB gives (hub/api/queries.py) add up to shifts without a query per shift.
Node availability is the share of the day's hours in which a node sent a health report.
Alerts come from the ``alert`` measurement: a ``new`` point per alert raised, an
``acknowledged`` point whose ``open_s`` is the time it took to acknowledge.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from hub.api.queries import hourly_counts
from hub.influx.v1 import InfluxV1
from hub.reports.settings import ReportsSettings
from hub.tracing.retention import iso
from hub.wards import Shift, WardSettings, ward_name, ward_shifts


@dataclass(slots=True)
class Tally:
    """Passages of one shift (or the whole day)."""

    name: str
    start_h: int
    end_h: int
    admitted: int = 0
    refused: int = 0
    overrides: int = 0
    fevers: int = 0
    refused_by_reason: Counter[str] = field(default_factory=Counter)

    def add(self, decision: str, reason: str, passages: int, fevers: int) -> None:
        self.fevers += fevers
        if decision == "admit":
            self.admitted += passages
        elif decision == "override":  # an operator lifted the barrier by hand, with a reason
            self.overrides += passages
        else:
            self.refused += passages
            self.refused_by_reason[reason] += passages


@dataclass(frozen=True, slots=True)
class AlertFigures:
    raised: int
    acknowledged: int
    open_at_end: int  # raised this day, neither acknowledged nor resolved by its end
    ack_mean_s: float | None
    ack_max_s: float | None


@dataclass(frozen=True, slots=True)
class DailyFigures:
    ward_id: str
    ward_name: str
    day: date
    utc_offset_h: int
    shifts: list[Tally]
    day_total: Tally
    hourly: list[tuple[int, int, int]]  # (local hour, admitted, refused)
    nodes: dict[str, float]  # node -> share of the day's hours with a health report
    alerts: AlertFigures
    unmanned_hours: float | None  # None: not recorded (no operator sign-in data)


def day_window(day: date, utc_offset_h: int) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), UTC) - timedelta(hours=utc_offset_h)
    return start, start + timedelta(days=1)


def gather(
    influx: InfluxV1,
    settings: ReportsSettings,
    wards: Mapping[str, WardSettings],
    ward: str,
    day: date,
) -> DailyFigures:
    start, end = day_window(day, settings.utc_offset_h)
    shifts = [_tally(s) for s in ward_shifts(wards, ward)]
    total = Tally("Cả ngày", 0, 24)
    hourly = {h: [0, 0] for h in range(24)}
    for c in hourly_counts(influx, ward=ward, checkpoint=None, start=start, end=end):
        hour = int((c.hour - start).total_seconds() // 3600)
        total.add(c.decision, c.reason, c.passages, c.fevers)
        for tally in shifts:
            if tally.start_h <= hour < tally.end_h:
                tally.add(c.decision, c.reason, c.passages, c.fevers)
        if c.decision in ("admit", "refuse"):  # overrides are few: counted by shift only
            hourly[hour][c.decision == "refuse"] += c.passages
    return DailyFigures(
        ward_id=ward,
        ward_name=ward_name(wards, ward) or ward,
        day=day,
        utc_offset_h=settings.utc_offset_h,
        shifts=shifts,
        day_total=total,
        hourly=[(h, a, r) for h, (a, r) in sorted(hourly.items())],
        nodes=_availability(influx, ward, start, end),
        alerts=_alerts(influx, ward, start, end),
        unmanned_hours=None,
    )


def _tally(shift: Shift) -> Tally:
    return Tally(shift.name, shift.start_h, shift.end_h)


def _availability(influx: InfluxV1, ward: str, start: datetime, end: datetime) -> dict[str, float]:
    known = influx.query(
        'SHOW TAG VALUES FROM "health" WITH KEY = "node" WHERE "ward" = $ward', {"ward": ward}
    )
    hours: Counter[str] = Counter({str(r["value"]): 0 for r in known})
    rows = influx.query(
        'SELECT count("uptime_s") AS reports FROM "health" WHERE "ward" = $ward '
        'AND time >= $start AND time < $end GROUP BY time(1h), "node" fill(none)',
        {"ward": ward, "start": iso(start), "end": iso(end)},
    )
    for r in rows:
        hours[r["node"]] += 1
    span_h = (end - start).total_seconds() / 3600
    return {node: n / span_h for node, n in sorted(hours.items())}


def _alerts(influx: InfluxV1, ward: str, start: datetime, end: datetime) -> AlertFigures:
    rows = influx.query(
        'SELECT "alert_id", "open_s", "change", "state" FROM "alert" WHERE "ward" = $ward '
        "AND time >= $start AND time < $end ORDER BY time ASC",
        {"ward": ward, "start": iso(start), "end": iso(end)},
    )
    raised = {r["alert_id"] for r in rows if r["change"] == "new"}
    waits = [float(r["open_s"]) for r in rows if r["change"] == "acknowledged"]
    last_state = {r["alert_id"]: r["state"] for r in rows}  # rows oldest first
    return AlertFigures(
        raised=len(raised),
        acknowledged=len(waits),
        open_at_end=sum(1 for a in raised if last_state[a] == "open"),
        ack_mean_s=sum(waits) / len(waits) if waits else None,
        ack_max_s=max(waits) if waits else None,
    )
