"""A small model of Grafana dashboards: just what ours use, rendered to Grafana's JSON.

Every panel declares the shape its query must return (``Target.shape``), so that the test
suite can run each query against a real InfluxDB and check it feeds the panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DATASOURCE = {"type": "influxdb", "uid": "checkpoint-influx"}
# Template-variable conditions, shared by every query.
WARD = '"ward" =~ /^$ward$/'
CHECKPOINT = '"checkpoint" =~ /^$checkpoint$/'

# What a query must return for its panel to show something meaningful:
#   series  time buckets (GROUP BY time): several timestamps, numeric values
#   values  one or more numeric values (stat, bar gauge, pie chart)
#   rows    table rows that carry ``Target.columns``
#   samples raw numeric samples (histogram)
Shape = Literal["series", "values", "rows", "samples"]


@dataclass(frozen=True)
class Target:
    query: str
    shape: Shape
    alias: str = ""
    columns: tuple[str, ...] = ()

    def to_json(self, ref: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "refId": ref,
            "datasource": DATASOURCE,
            "rawQuery": True,
            "query": self.query,
            "resultFormat": "table" if self.shape == "rows" else "time_series",
        }
        if self.alias:
            out["alias"] = self.alias
        return out


@dataclass(frozen=True)
class Panel:
    title: str
    kind: str  # Grafana panel type: timeseries, stat, table, state-timeline, ...
    targets: tuple[Target, ...]
    width: int = 12
    height: int = 8
    description: str = ""
    unit: str = ""
    interval: str = ""  # minimum $__interval, e.g. "2m" for heartbeat counts
    no_value: str | None = None
    mappings: tuple[dict[str, Any], ...] = ()
    thresholds: tuple[tuple[float | None, str], ...] = ()
    overrides: tuple[dict[str, Any], ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    # A table fed by several queries joins them into one (Grafana's "merge").
    merge: bool = False

    def to_json(self, pid: int, x: int, y: int) -> dict[str, Any]:
        defaults: dict[str, Any] = {"custom": dict(self.custom)}
        if self.unit:
            defaults["unit"] = self.unit
        if self.no_value is not None:
            defaults["noValue"] = self.no_value
        if self.mappings:
            defaults["mappings"] = list(self.mappings)
        if self.thresholds:
            defaults["thresholds"] = {
                "mode": "absolute",
                "steps": [{"value": v, "color": c} for v, c in self.thresholds],
            }
        out: dict[str, Any] = {
            "id": pid,
            "type": self.kind,
            "title": self.title,
            "description": self.description,
            "datasource": DATASOURCE,
            "gridPos": {"x": x, "y": y, "w": self.width, "h": self.height},
            "targets": [t.to_json(chr(ord("A") + i)) for i, t in enumerate(self.targets)],
            "fieldConfig": {"defaults": defaults, "overrides": list(self.overrides)},
            "options": dict(self.options),
        }
        if self.interval:
            out["interval"] = self.interval
        if self.merge:
            out["transformations"] = [{"id": "merge", "options": {}}]
        return out


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    query: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": "query",
            "datasource": DATASOURCE,
            "query": self.query,
            "definition": self.query,
            "refresh": 2,  # on time-range change: a new node appears without a reload
            "sort": 1,
            "includeAll": False,
            "multi": False,
        }


@dataclass(frozen=True)
class Annotation:
    name: str
    query: str
    text_column: str
    tags_columns: str
    color: str = "red"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "datasource": DATASOURCE,
            "enable": True,
            "iconColor": self.color,
            "query": self.query,
            "textColumn": self.text_column,
            "tagsColumn": self.tags_columns,
        }


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    variables: tuple[Variable, ...]
    panels: tuple[Panel, ...]
    annotations: tuple[Annotation, ...] = ()
    time_from: str = "now-6h"
    refresh: str = "1m"

    @property
    def file_name(self) -> str:
        return f"{self.uid}.json"

    def to_json(self) -> dict[str, Any]:
        panels, x, y, row_height = [], 0, 0, 0
        for pid, panel in enumerate(self.panels, start=1):
            if x + panel.width > 24:  # Grafana's grid is 24 columns wide
                x, y, row_height = 0, y + row_height, 0
            panels.append(panel.to_json(pid, x, y))
            x += panel.width
            row_height = max(row_height, panel.height)
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["checkpoint"],
            "editable": False,  # provisioned: change the code, not the UI
            "schemaVersion": 39,
            "timezone": "browser",
            "refresh": self.refresh,
            "time": {"from": self.time_from, "to": "now"},
            "templating": {"list": [v.to_json() for v in self.variables]},
            "annotations": {"list": [a.to_json() for a in self.annotations]},
            "panels": panels,
        }
