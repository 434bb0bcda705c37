"""Fleet health, for technicians: last seen, versions, backlog, errors, CPU, disk."""

# ruff: noqa: S608 - the queries are constants built from constants, not from input;
# Grafana substitutes the template variables and escapes them as regexes.

from __future__ import annotations

from hub.dashboards.common import WARD_VAR, link_panel
from hub.dashboards.model import WARD, Dashboard, Panel, Target

_HEALTH = f'FROM "health" WHERE {WARD} AND $timeFilter'


def _trend(title: str, func: str, field: str, unit: str, description: str = "") -> Panel:
    return Panel(
        title,
        "timeseries",
        (
            Target(
                f'SELECT {func}("{field}") {_HEALTH} GROUP BY time($__interval), "node" fill(none)',
                "series",
                alias="$tag_node",
            ),
        ),
        width=8,
        unit=unit,
        # 41 nodes x a day of 1-minute buckets is 60k points per panel: 5-minute maxima
        # still show every spike and answer in a fraction of the time (bench/dashboard_queries).
        interval="5m",
        description=description,
    )


def fleet_health() -> Dashboard:
    panels = (
        link_panel("node"),
        Panel(
            "Last seen and versions",
            "table",
            (
                Target(
                    f'SELECT last("uptime_s") AS "uptime_s" {_HEALTH} '
                    'GROUP BY "node", "checkpoint"',
                    "rows",
                    columns=("time", "node", "checkpoint", "uptime_s"),
                ),
                Target(
                    f'SELECT last("software_version") AS "software" {_HEALTH} GROUP BY "node"',
                    "rows",
                    columns=("node", "software"),
                ),
                Target(
                    f'SELECT last("config_version") AS "config" {_HEALTH} GROUP BY "node"',
                    "rows",
                    columns=("node", "config"),
                ),
            ),
            width=24,
            description="Time (A) is the last heartbeat; merge joins the three on node.",
            merge=True,
            overrides=(
                {
                    "matcher": {"id": "byName", "options": "Time"},
                    "properties": [{"id": "unit", "value": "dateTimeFromNow"}],
                },
            ),
            options={"showHeader": True},
        ),
        _trend(
            "Outbox backlog",
            "max",
            "outbox_depth",
            "short",
            "Events on the node's disk not yet acknowledged by the broker.",
        ),
        _trend(
            "Events dropped at the node",
            "max",
            "outbox_dropped",
            "short",
            "Events given way when the outbox was full; should stay 0.",
        ),
        _trend("Sensor errors (total)", "max", "sensor_errors", "short"),
        _trend("CPU temperature", "max", "cpu_temp_c", "celsius"),
        _trend("Camera frame rate", "mean", "camera_fps", "short"),
        Panel(
            "Disk free",
            "bargauge",
            (
                Target(
                    f'SELECT last("disk_free_bytes") {_HEALTH} GROUP BY "node"',
                    "values",
                    alias="$tag_node",
                ),
            ),
            width=8,
            unit="bytes",
            thresholds=((None, "red"), (500e6, "orange"), (2e9, "green")),
            options={"orientation": "horizontal", "displayMode": "basic"},
        ),
        Panel(
            "Health flags",
            "table",
            (
                Target(
                    f'SELECT "node", "flags" {_HEALTH} AND "flags" != \'\' '
                    "ORDER BY time DESC LIMIT 100",
                    "rows",
                    columns=("time", "node", "flags"),
                ),
            ),
            width=12,
        ),
        Panel(
            "Config acknowledgements",
            "table",
            (
                Target(
                    f'SELECT "node", "version", "applied", "error" FROM "config_ack" '
                    f"WHERE {WARD} AND $timeFilter ORDER BY time DESC LIMIT 100",
                    "rows",
                    columns=("time", "node", "version", "applied"),
                ),
            ),
            width=12,
        ),
    )
    return Dashboard(
        uid="checkpoint-fleet",
        title="Fleet health",
        description="Every node of a ward, for technicians.",
        variables=(WARD_VAR,),
        panels=panels,
    )
