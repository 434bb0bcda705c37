"""Ward overview, for command staff: every checkpoint's state, traffic, fevers, alerts."""

# ruff: noqa: S608 - the queries are constants built from constants, not from input;
# Grafana substitutes the template variables and escapes them as regexes.

from __future__ import annotations

from hub.dashboards.common import WARD_VAR, alert_annotation, link_panel
from hub.dashboards.model import WARD, Dashboard, Panel, Target

_PASSAGES = f'FROM "passage" WHERE {WARD} AND $timeFilter'

# The latest change of each alert, one per (checkpoint, node, kind) as the hub folds them;
# its ``state`` tag, selected, says whether it is still active. A week back is enough:
# an alert left open longer than that has been escalated many times over.
_LATEST_ALERTS = (
    'SELECT last("alert_id") AS "alert_id", "state" FROM "alert" '
    f'WHERE {WARD} AND time > now() - 7d GROUP BY "checkpoint", "node", "kind"'
)
_ACTIVE = f"FROM ({_LATEST_ALERTS}) WHERE \"state\" != 'resolved'"


def _count(title: str, query: str, *, color: str = "blue", width: int = 4) -> Panel:
    return Panel(
        title,
        "stat",
        (Target(query, "values"),),
        width=width,
        height=4,
        no_value="0",  # InfluxQL returns no row for a count of nothing
        thresholds=((None, color),),
    )


def ward_overview() -> Dashboard:
    panels = (
        _count("Passages", f'SELECT count("duration_ms") {_PASSAGES}'),
        _count(
            "Admitted",
            f'SELECT count("duration_ms") {_PASSAGES} AND "decision" = \'admit\'',
            color="green",
        ),
        _count(
            "Refused",
            f'SELECT count("duration_ms") {_PASSAGES} AND "decision" = \'refuse\'',
            color="orange",
        ),
        _count(
            "Confirmed fevers", f'SELECT count("fever") {_PASSAGES} AND "fever" = true', color="red"
        ),
        _count(
            "Active alerts (open or acknowledged)",
            f'SELECT count("alert_id") {_ACTIVE}',
            color="red",
        ),
        _count(
            "Nodes reporting",
            # One row per node with a heartbeat in the last 5 minutes, counted.
            'SELECT count("uptime_s") FROM (SELECT last("uptime_s") AS "uptime_s" '
            f'FROM "health" WHERE {WARD} AND time > now() - 5m GROUP BY "node")',
            color="green",
        ),
        link_panel("checkpoint"),
        Panel(
            "Admitted and refused per hour",
            "timeseries",
            (
                Target(
                    f'SELECT count("duration_ms") {_PASSAGES} GROUP BY time(1h), "decision" '
                    "fill(0)",
                    "series",
                    alias="$tag_decision",
                ),
            ),
            custom={"drawStyle": "bars", "fillOpacity": 60, "stacking": {"mode": "normal"}},
        ),
        Panel(
            "Confirmed fevers per hour",
            "timeseries",
            (
                Target(
                    f'SELECT count("fever") {_PASSAGES} AND "fever" = true '
                    'GROUP BY time(1h), "checkpoint" fill(0)',
                    "series",
                    alias="$tag_checkpoint",
                ),
            ),
            custom={"drawStyle": "bars", "fillOpacity": 80, "stacking": {"mode": "normal"}},
        ),
        Panel(
            "Checkpoints: last heartbeat, zone level",
            "table",
            (
                Target(
                    f'SELECT last("uptime_s") AS "uptime_s" FROM "health" WHERE {WARD} '
                    'AND $timeFilter GROUP BY "checkpoint"',
                    "rows",
                    columns=("time", "checkpoint", "uptime_s"),
                ),
                Target(
                    f'SELECT last("duration_ms") AS "last_passage_ms", "level" {_PASSAGES} '
                    'GROUP BY "checkpoint"',
                    "rows",
                    columns=("time", "checkpoint", "level"),
                ),
                Target(
                    f'SELECT count("alert_id") AS "active_alerts" {_ACTIVE} GROUP BY "checkpoint"',
                    "rows",
                    columns=("checkpoint", "active_alerts"),
                ),
            ),
            description="Time is the last heartbeat (A) and the last passage (B); "
            "active_alerts: open or acknowledged alerts (C), the checkpoint's alarm state.",
            merge=True,
            overrides=(
                {
                    "matcher": {"id": "byName", "options": "Time"},
                    "properties": [{"id": "unit", "value": "dateTimeFromNow"}],
                },
            ),
        ),
        Panel(
            "Passages by checkpoint",
            "bargauge",
            (
                Target(
                    f'SELECT count("duration_ms") {_PASSAGES} GROUP BY "checkpoint"',
                    "values",
                    alias="$tag_checkpoint",
                ),
            ),
            options={"orientation": "horizontal", "displayMode": "basic"},
        ),
        Panel(
            "Alert changes",
            "table",
            (
                Target(
                    'SELECT "checkpoint", "kind", "severity", "state", "summary", "count", '
                    f'"alert_id" FROM "alert" WHERE {WARD} AND $timeFilter '
                    "ORDER BY time DESC LIMIT 200",
                    "rows",
                    columns=("time", "checkpoint", "kind", "severity", "state", "summary"),
                ),
            ),
            width=24,
        ),
    )
    return Dashboard(
        uid="checkpoint-ward",
        title="Ward overview",
        description="Every checkpoint of a ward: link state, traffic, fevers and alerts.",
        variables=(WARD_VAR,),
        panels=panels,
        annotations=(alert_annotation(WARD),),
    )
