"""Every dashboard query, with its template variables substituted as Grafana does, against a
real InfluxDB filled with three hours of a ward: each must return data of the shape its
panel draws. A query that errors or returns nothing fails here, not in the command centre."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from checkpoint.localstack import LocalStack
from hub.dashboards import all_dashboards
from hub.dashboards.__main__ import DEFAULT_DIR, render_all
from hub.dashboards.model import Dashboard, Panel, Target
from hub.influx.v1 import InfluxV1
from tests.field import ward_traffic

WARD = "dashward"
CHECKPOINT = f"{WARD}-cp01"


@pytest.fixture(scope="module")
def ward(stack: LocalStack) -> Iterator[tuple[InfluxV1, ward_traffic.WardData]]:
    client = InfluxV1(stack.influx_url, "test_dashboards")
    client.create_database()
    yield client, ward_traffic.fill(client, WARD)
    client.close()


def substitute(
    query: str, data: ward_traffic.WardData, interval: str, checkpoint: str = CHECKPOINT
) -> str:
    # What Grafana does: regex-escaped values for =~ /^$var$/, the range in epoch ms.
    start, end = (int(t.timestamp() * 1000) for t in (data.start, data.end))
    return (
        query.replace("$timeFilter", f"time >= {start}ms and time <= {end}ms")
        .replace("$__interval", interval)
        .replace("$checkpoint", re.escape(checkpoint))
        .replace("$ward", re.escape(WARD))
    )


def run(influx: InfluxV1, query: str) -> list[dict[str, Any]]:
    """Raw series (name, tags, columns, values); an InfluxQL error fails the test."""
    resp = httpx.get(f"{influx.url}/query", params={"db": influx.database, "q": query})
    assert resp.status_code == 200, resp.text
    result = resp.json()["results"][0]
    assert "error" not in result, f"{result['error']}\n{query}"
    series: list[dict[str, Any]] = result.get("series", [])
    return series


def _cases() -> Iterator[Any]:
    for board in all_dashboards():
        for panel in board.panels:
            for i, target in enumerate(panel.targets):
                yield pytest.param(board, panel, target, id=f"{board.uid}:{panel.title}:{i}")


def _values(series: list[dict[str, Any]], *, skip: tuple[str, ...] = ("time",)) -> list[Any]:
    out = []
    for s in series:
        cols = [i for i, c in enumerate(s["columns"]) if c not in skip]
        out.extend(row[i] for row in s["values"] for i in cols)
    return out


def _numeric(values: list[Any]) -> bool:
    return all(
        v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values
    )


@pytest.mark.parametrize(("board", "panel", "target"), list(_cases()))
def test_every_panel_query_returns_what_its_panel_draws(
    ward: tuple[InfluxV1, ward_traffic.WardData], board: Dashboard, panel: Panel, target: Target
) -> None:
    influx, data = ward
    query = substitute(target.query, data, panel.interval or "1m")
    assert not re.search(r"\$\w", query), f"unsubstituted variable in {query}"
    series = run(influx, query)
    assert series, f"{board.title} / {panel.title}: no data for\n{query}"
    if target.shape == "series":
        times = {row[0] for s in series for row in s["values"]}
        assert len(times) >= 3, "a time series needs buckets"
        values = _values(series)
        assert _numeric(values)
        assert any(v for v in values), "every bucket is empty or zero"
    elif target.shape == "values":
        values = _values(series)
        assert _numeric(values)
        assert any(v for v in values)
    elif target.shape == "samples":
        values = _values(series)
        assert len(values) >= 20
        assert _numeric(values)
    else:
        for s in series:
            present = set(s["columns"]) | set(s.get("tags", {}))
            assert set(target.columns) <= present, f"{target.columns} not in {present}"
            for col in target.columns:
                if col in s["columns"]:
                    j = s["columns"].index(col)
                    assert any(row[j] is not None for row in s["values"]), col


def test_annotations_find_the_alerts(ward: tuple[InfluxV1, ward_traffic.WardData]) -> None:
    influx, data = ward
    # Three alerts opened and resolved at cp01, one still open at cp02.
    expected = {"checkpoint-ward": 7, "checkpoint-detail": 6}
    for board in all_dashboards():
        for annotation in board.annotations:
            series = run(influx, substitute(annotation.query, data, "1m"))
            assert series, annotation.query
            columns = series[0]["columns"]
            assert annotation.text_column in columns
            assert set(annotation.tags_columns.split(",")) <= set(columns)
            assert len(series[0]["values"]) == expected[board.uid]


def test_active_alerts_are_those_not_resolved(
    ward: tuple[InfluxV1, ward_traffic.WardData],
) -> None:
    influx, data = ward
    overview = all_dashboards()[0]
    stat = next(p for p in overview.panels if p.title.startswith("Active alerts"))
    series = run(influx, substitute(stat.targets[0].query, data, "1m"))
    assert series[0]["values"][0][1] == 1
    table = next(p for p in overview.panels if p.title.startswith("Checkpoints:"))
    series = run(influx, substitute(table.targets[2].query, data, "1m"))
    assert {s["tags"]["checkpoint"]: s["values"][0][1] for s in series} == {f"{WARD}-cp02": 1}


def test_template_variables_list_the_ward_and_its_checkpoints(
    ward: tuple[InfluxV1, ward_traffic.WardData],
) -> None:
    influx, data = ward
    found = {}
    for board in all_dashboards():
        for var in board.variables:
            rows = run(influx, substitute(var.query, data, "1m"))
            found[var.name] = {v[1] for s in rows for v in s["values"]}
    assert WARD in found["ward"]
    assert found["checkpoint"] == set(data.checkpoints)


def test_offline_is_not_no_traffic(ward: tuple[InfluxV1, ward_traffic.WardData]) -> None:
    """cp04 went offline 30 min ago: its link shows 0 heartbeats at the end. cp02 had a
    quiet hour: heartbeats without passages, so its link stays up while traffic is 0."""
    influx, data = ward
    link = next(p for p in all_dashboards()[0].panels if p.kind == "state-timeline")
    series = run(influx, substitute(link.targets[0].query, data, "2m"))
    by_cp = {s["tags"]["checkpoint"]: [v[1] for v in s["values"]] for s in series}
    assert by_cp[f"{WARD}-cp04"][-10:] == [0] * 10
    assert all(n > 0 for n in by_cp[f"{WARD}-cp01"][1:-1])

    detail = all_dashboards()[1].panels[0]
    assert [t.alias for t in detail.targets] == ["link", "traffic"]
    quiet = substitute(detail.targets[0].query, data, "10m", f"{WARD}-cp02")
    traffic = substitute(detail.targets[1].query, data, "10m", f"{WARD}-cp02")
    beats = dict(run(influx, quiet)[0]["values"])
    people = dict(run(influx, traffic)[0]["values"])
    quiet_buckets = [t for t in beats if beats[t] > 0 and people.get(t) == 0]
    assert len(quiet_buckets) >= 4  # an hour up and quiet, in 10-minute buckets


def test_committed_dashboards_are_generated_from_the_code() -> None:
    """Regenerate with: .venv/bin/python -m hub.dashboards"""
    rendered = render_all()
    committed = {p.name: p.read_text(encoding="utf-8") for p in DEFAULT_DIR.glob("*.json")}
    assert committed == rendered


def test_dashboards_reference_the_provisioned_datasource() -> None:
    provisioning = Path(DEFAULT_DIR).parent / "provisioning" / "datasources"
    text = "\n".join(p.read_text() for p in provisioning.glob("*.yaml"))
    for name in render_all():
        board = json.loads((DEFAULT_DIR / name).read_text())
        uids = {t["datasource"]["uid"] for p in board["panels"] for t in p["targets"]}
        assert uids == {"checkpoint-influx"}
    assert "uid: checkpoint-influx" in text
