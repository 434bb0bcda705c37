"""Pieces shared by the dashboards: template variables, the link-state panel, alerts.

Offline is not "no traffic". A node sends a health event every minute or so while it is
up (docs/influx-schema.md ``health``), whether or not anyone passes. So "link" counts
heartbeats per bucket: 0 means the node was down or cut off (red, OFFLINE), while a
checkpoint that is up but quiet shows heartbeats and zero passages (grey, "no traffic").
"""

# ruff: noqa: S608 - the queries are constants built from constants, not from input;
# Grafana substitutes the template variables and escapes them as regexes.

from __future__ import annotations

from typing import Any

from hub.dashboards.model import CHECKPOINT, WARD, Annotation, Panel, Target, Variable

WARD_VAR = Variable("ward", "Ward", 'SHOW TAG VALUES FROM "health" WITH KEY = "ward"')
CHECKPOINT_VAR = Variable(
    "checkpoint",
    "Checkpoint",
    f'SHOW TAG VALUES FROM "health" WITH KEY = "checkpoint" WHERE {WARD}',
)

# Buckets long enough to hold at least one heartbeat of a live node.
HEARTBEAT_BUCKET = "2m"


def value_map(*pairs: tuple[float, float | None, str, str]) -> tuple[dict[str, Any], ...]:
    """Range mappings (from, to, text, colour) for state panels."""
    return tuple(
        {
            "type": "range",
            "options": {"from": lo, "to": hi, "result": {"text": text, "color": color}},
        }
        for lo, hi, text, color in pairs
    )


LINK_MAP = value_map((0, 0, "OFFLINE", "red"), (1, None, "online", "green"))
TRAFFIC_MAP = value_map((0, 0, "no traffic", "#8e8e8e"), (1, None, "traffic", "blue"))


def heartbeats(where: str, by: str) -> Target:
    return Target(
        f'SELECT count("uptime_s") FROM "health" WHERE {where} AND $timeFilter '
        f'GROUP BY time($__interval), "{by}" fill(0)',
        "series",
        alias=f"$tag_{by}",
    )


def link_panel(by: str, *, where: str = WARD, width: int = 24) -> Panel:
    return Panel(
        f"Link per {by} (red: no heartbeat, node offline)",
        "state-timeline",
        (heartbeats(where, by),),
        width=width,
        height=10,
        description="Heartbeats (health events) per bucket. OFFLINE means the node sent "
        "nothing: power, network or the node itself is down. A quiet checkpoint stays green.",
        interval=HEARTBEAT_BUCKET,
        mappings=LINK_MAP,
        options={"showValue": "never", "mergeValues": True, "rowHeight": 0.8},
    )


def link_and_traffic_panel() -> Panel:
    where = f"{WARD} AND {CHECKPOINT}"
    return Panel(
        "Link and traffic: OFFLINE (red) is not 'no traffic' (grey)",
        "state-timeline",
        (
            Target(
                f'SELECT count("uptime_s") FROM "health" WHERE {where} AND $timeFilter '
                "GROUP BY time($__interval) fill(0)",
                "series",
                alias="link",
            ),
            Target(
                f'SELECT count("duration_ms") FROM "passage" WHERE {where} AND $timeFilter '
                "GROUP BY time($__interval) fill(0)",
                "series",
                alias="traffic",
            ),
        ),
        width=24,
        height=5,
        interval=HEARTBEAT_BUCKET,
        mappings=LINK_MAP,
        overrides=(
            {
                "matcher": {"id": "byName", "options": "traffic"},
                "properties": [{"id": "mappings", "value": list(TRAFFIC_MAP)}],
            },
        ),
        options={"showValue": "never", "mergeValues": True},
    )


def alert_annotation(where: str) -> Annotation:
    return Annotation(
        "Alerts",
        f'SELECT "summary", "kind", "severity", "state" FROM "alert" WHERE {where} AND $timeFilter',
        text_column="summary",
        tags_columns="kind,severity,state",
    )
