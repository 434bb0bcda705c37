"""Checkpoint detail: temperatures, decisions by reason, barrier events, node health."""

# ruff: noqa: S608 - the queries are constants built from constants, not from input;
# Grafana substitutes the template variables and escapes them as regexes.

from __future__ import annotations

from hub.dashboards.common import (
    CHECKPOINT_VAR,
    WARD_VAR,
    alert_annotation,
    link_and_traffic_panel,
)
from hub.dashboards.model import CHECKPOINT, WARD, Dashboard, Panel, Target

_HERE = f"{WARD} AND {CHECKPOINT} AND $timeFilter"


def _per_node(title: str, field: str, func: str, unit: str) -> Panel:
    return Panel(
        title,
        "timeseries",
        (
            Target(
                f'SELECT {func}("{field}") FROM "health" WHERE {_HERE} '
                'GROUP BY time($__interval), "node" fill(none)',
                "series",
                alias="$tag_node",
            ),
        ),
        width=8,
        unit=unit,
        interval="1m",
    )


def checkpoint_detail() -> Dashboard:
    panels = (
        link_and_traffic_panel(),
        Panel(
            "Body temperature distribution",
            "histogram",
            (Target(f'SELECT "object_c" FROM "reading" WHERE {_HERE}', "samples"),),
            unit="celsius",
            options={"bucketSize": 0.1},
            description="Every screening reading (object temperature, emissivity-corrected).",
        ),
        Panel(
            "Temperature",
            "timeseries",
            (
                Target(
                    f'SELECT mean("object_c") AS "mean", max("object_c") AS "max" '
                    f'FROM "reading" WHERE {_HERE} GROUP BY time($__interval) fill(none)',
                    "series",
                ),
                Target(
                    f'SELECT mean("ambient_c") AS "ambient" FROM "reading" WHERE {_HERE} '
                    "GROUP BY time($__interval) fill(none)",
                    "series",
                ),
            ),
            unit="celsius",
            interval="1m",
            thresholds=((None, "green"), (37.5, "red")),
            custom={"thresholdsStyle": {"mode": "line"}},
        ),
        Panel(
            "Decisions by reason",
            "piechart",
            (
                Target(
                    f'SELECT count("duration_ms") FROM "passage" WHERE {_HERE} GROUP BY "reason"',
                    "values",
                    alias="$tag_reason",
                ),
            ),
            width=8,
            options={"pieType": "donut", "legend": {"displayMode": "table", "values": ["value"]}},
        ),
        Panel(
            "Admitted and refused",
            "timeseries",
            (
                Target(
                    f'SELECT count("duration_ms") FROM "passage" WHERE {_HERE} '
                    'GROUP BY time($__interval), "decision" fill(0)',
                    "series",
                    alias="$tag_decision",
                ),
            ),
            width=16,
            interval="10m",
            custom={"drawStyle": "bars", "fillOpacity": 60, "stacking": {"mode": "normal"}},
        ),
        Panel(
            "Barrier alarms by kind",
            "timeseries",
            (
                Target(
                    f'SELECT count("detail") FROM "barrier" WHERE {_HERE} '
                    'GROUP BY time($__interval), "kind" fill(0)',
                    "series",
                    alias="$tag_kind",
                ),
            ),
            width=8,
            interval="10m",
            custom={"drawStyle": "bars", "fillOpacity": 80},
        ),
        Panel(
            "Barrier events",
            "table",
            (
                Target(
                    f'SELECT "node", "kind", "duration_s", "detail" FROM "barrier" '
                    f"WHERE {_HERE} ORDER BY time DESC LIMIT 100",
                    "rows",
                    columns=("time", "node", "kind", "detail"),
                ),
            ),
            width=16,
        ),
        _per_node("CPU temperature", "cpu_temp_c", "mean", "celsius"),
        _per_node("Outbox backlog", "outbox_depth", "max", "short"),
        _per_node("Sensor errors (total)", "sensor_errors", "max", "short"),
        Panel(
            "Command results",
            "table",
            (
                Target(
                    f'SELECT "node", "command", "ok", "detail" FROM "command_result" '
                    f"WHERE {_HERE} ORDER BY time DESC LIMIT 50",
                    "rows",
                    columns=("time", "node", "command", "ok"),
                ),
            ),
            width=24,
        ),
    )
    return Dashboard(
        uid="checkpoint-detail",
        title="Checkpoint detail",
        description="One checkpoint: link, traffic, temperatures, decisions, barrier, health.",
        variables=(WARD_VAR, CHECKPOINT_VAR),
        panels=panels,
        annotations=(alert_annotation(f"{WARD} AND {CHECKPOINT}"),),
    )
