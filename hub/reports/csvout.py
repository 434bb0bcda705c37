"""The daily figures as CSV: one figure a row, machine key and Vietnamese label side by side."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from hub.reports import labels
from hub.reports.figures import DailyFigures, Tally

HEADER = ("ward", "date", "shift", "metric", "label", "value")
Row = tuple[str, str, str, str, str, str]


def rows(f: DailyFigures) -> list[Row]:
    day = f.day.isoformat()

    def row(shift: str, metric: str, label: str, value: object) -> Row:
        return (f.ward_id, day, shift, metric, label, "" if value is None else str(value))

    out: list[Row] = []
    for t in [*f.shifts, f.day_total]:
        out += _tally_rows(t, row)
    out.append(row("", "unmanned_hours", labels.METRICS["unmanned_hours"], labels.NOT_RECORDED))
    for node, share in f.nodes.items():
        label = f"{labels.METRICS['node_availability']}: {node}"
        out.append(row("", f"node_availability:{node}", label, round(share, 4)))
    a = f.alerts
    for metric, value in (
        ("alerts_raised", a.raised),
        ("alerts_acknowledged", a.acknowledged),
        ("alerts_open_at_end", a.open_at_end),
        ("ack_mean_s", None if a.ack_mean_s is None else round(a.ack_mean_s, 1)),
        ("ack_max_s", None if a.ack_max_s is None else round(a.ack_max_s, 1)),
    ):
        out.append(row("", metric, labels.METRICS[metric], value))
    return out


def _tally_rows(t: Tally, row: Callable[[str, str, str, object], Row]) -> list[Row]:
    shift = f"{t.name} ({t.start_h:02d}-{t.end_h:02d}h)"
    out = [
        row(shift, m, labels.METRICS[m], getattr(t, m))
        for m in ("admitted", "refused", "fevers", "overrides")
    ]
    for code, n in sorted(t.refused_by_reason.items()):
        out.append(row(shift, f"refused:{code}", f"Từ chối: {labels.reason(code)}", n))
    return out


def to_csv(f: DailyFigures) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows(f))
    return buffer.getvalue()
