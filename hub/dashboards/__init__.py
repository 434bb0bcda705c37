"""Grafana dashboards for the ward command centre, kept as code.

This package is the one source of truth; ``python -m hub.dashboards`` writes the JSON that
Grafana provisions (dashboards/grafana/*.json), and a test fails when the committed JSON
differs from what the code builds. Queries are InfluxQL over docs/influx-schema.md.
"""

from __future__ import annotations

from hub.dashboards.checkpoint_detail import checkpoint_detail
from hub.dashboards.fleet_health import fleet_health
from hub.dashboards.model import Dashboard
from hub.dashboards.ward_overview import ward_overview


def all_dashboards() -> list[Dashboard]:
    return [ward_overview(), checkpoint_detail(), fleet_health()]
