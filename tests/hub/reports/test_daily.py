"""The daily briefing against a real InfluxDB: a known day of passages, health reports and
alerts written with the hub's own schema, the report's figures compared to the test's own
InfluxQL counts, the PDF rasterised with pdftoppm and its chart looked for."""

from __future__ import annotations

import csv
import io
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from checkpoint.contract.alerts import AlertChange, AlertMessage, AlertState
from checkpoint.contract.models import Reason
from edge.events import MemoryEmitter
from hub.api.app import create_app
from hub.api.context import ApiContext
from hub.api.roles import Role
from hub.cli import hub_app
from hub.influx.schema import alert_point, event_point, trace_point
from hub.influx.v1 import InfluxV1
from hub.reports.pdf import CHART_H, CHART_W, CHART_X, CHART_Y
from hub.state import open_store
from hub.wards import WardSettings
from tests.hub.api.conftest import auth
from tests.hub.traffic import health, passage

DAY = date(2026, 11, 22)
MIDNIGHT = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)  # 00:00 in Ha Noi (UTC+7)
NAME = "Phường Phúc La, quận Hà Đông, Hà Nội"
REFUSALS = [Reason.PASS_EXPIRED, Reason.NO_PASS, Reason.PASS_REVOKED, Reason.OUTSIDE_HOURS]


def at(hours: float) -> datetime:
    return MIDNIGHT + timedelta(hours=hours)


def _write_day(influx: InfluxV1) -> None:
    """Passages over the local day and just outside it, health, and alert changes."""
    lines: list[str] = []
    nodes = [MemoryEmitter(f"phucla-cp0{i}-a", f"phucla-cp0{i}", "phucla") for i in (1, 2, 3)]
    for k in range(-3, 170):  # every ~8.5 minutes from 25 min before midnight to past the day
        em = nodes[k % 3]
        em.clock = lambda k=k: at(k * 0.142)
        refuse = REFUSALS[k % 4] if k % 5 == 0 else None
        temp = (37.9, 38.1) if k % 23 == 0 else (36.5, None)
        event = passage(em, refuse=refuse, temp=temp, pass_id=f"p-{k % 40:03d}")
        lines.append(event_point(event).to_line())
        if (trace := trace_point(event)) is not None:
            lines.append(trace.to_line())
    # One operator override, as the node writes it once the contract carries it.
    lines.append(
        "passage,ward=phucla,checkpoint=phucla-cp01,node=phucla-cp01-a,direction=in,"
        f'decision=override,reason=medical,level=green duration_ms=900i,event_id="x" '
        f"{int(at(14.25).timestamp() * 1e9)}"
    )
    # Health: cp01 all day, cp02 until noon, cp03 a silent day (known from the day before).
    for em, hours in ((nodes[0], range(24)), (nodes[1], range(12)), (nodes[2], [-2])):
        for h in hours:
            for minute in (5, 35):
                em.clock = lambda h=h, minute=minute: at(h + minute / 60)
                lines.append(event_point(health(em)).to_line())
    # Alerts: three raised (two acknowledged, after 120 s and 600 s; one resolved), one
    # raised the day before and acknowledged this day.
    for alert_id, opened, acked_after, resolved in (
        ("a1", at(8), 120, True),
        ("a2", at(15), 600, False),
        ("a3", at(21), None, False),
        ("a0", at(-1), 3600, False),
    ):
        changes = [(AlertChange.NEW, AlertState.OPEN, opened)]
        if acked_after is not None:
            ack = opened + timedelta(seconds=acked_after)
            changes.append((AlertChange.ACKNOWLEDGED, AlertState.ACKNOWLEDGED, ack))
        if resolved:
            changes.append((AlertChange.RESOLVED, AlertState.RESOLVED, opened + timedelta(hours=1)))
        for change, state, when in changes:
            message = AlertMessage(
                alert_id=alert_id,
                change=change,
                state=state,
                kind="fever",
                severity="critical",
                ward_id="phucla",
                checkpoint_id="phucla-cp01",
                summary="fever",
                count=1,
                opened_at=opened,
                updated_at=when,
            )
            lines.append(alert_point(message).to_line())
    influx.create_database()
    influx.write_lines(lines)


@pytest.fixture
def api(tmp_path: Path, influx: InfluxV1) -> Iterator[tuple[TestClient, ApiContext]]:
    _write_day(influx)
    ctx = ApiContext(
        open_store(f"sqlite:///{tmp_path / 'hub.db'}"),
        influx=influx,
        wards={"phucla": WardSettings(name=NAME)},
    )
    with TestClient(create_app(ctx)) as client:
        yield client, ctx


def _count(influx: InfluxV1, where: str, start: datetime, end: datetime) -> int:
    rows = influx.query(
        f'SELECT count("duration_ms") FROM "passage" WHERE "ward" = \'phucla\' AND {where} '
        f"AND time >= '{start.isoformat()}' AND time < '{end.isoformat()}'"
    )
    return int(rows[0]["count"]) if rows else 0


def test_daily_csv_figures_equal_influxdb_counts(
    api: tuple[TestClient, ApiContext], influx: InfluxV1
) -> None:
    client, ctx = api
    commander = ctx.keys.issue(Role.COMMANDER, "cmd", wards=["phucla"])[1]
    technician = ctx.keys.issue(Role.TECHNICIAN, "tech", wards=["phucla"])[1]
    params = {"ward": "phucla", "date": DAY.isoformat(), "format": "csv"}
    assert client.get("/reports/daily", params=params, headers=auth(technician)).status_code == 403
    resp = client.get("/reports/daily", params=params, headers=auth(commander))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    figure = {(r["shift"], r["metric"]): r["value"] for r in rows}
    assert {r["ward"] for r in rows} == {"phucla"}

    shifts = [("Ca 1 (00-06h)", 0, 6), ("Ca 2 (06-12h)", 6, 12), ("Ca 3 (12-18h)", 12, 18)]
    shifts += [("Ca 4 (18-24h)", 18, 24), ("Cả ngày (00-24h)", 0, 24)]
    for shift, h0, h1 in shifts:
        start, end = at(h0), at(h1)
        expected = {
            "admitted": _count(influx, "\"decision\" = 'admit'", start, end),
            "refused": _count(influx, "\"decision\" = 'refuse'", start, end),
            "overrides": _count(influx, "\"decision\" = 'override'", start, end),
            "fevers": _count(influx, '"fever" = true', start, end),
        }
        got = {m: int(figure[(shift, m)]) for m in expected}
        assert got == expected, shift
    whole = "Cả ngày (00-24h)"
    assert int(figure[(whole, "overrides")]) == 1
    assert int(figure[(whole, "admitted")]) > 100  # the day is not empty
    by_reason = influx.query(
        'SELECT count("duration_ms") FROM "passage" WHERE "ward" = \'phucla\' '
        f"AND \"decision\" = 'refuse' AND time >= '{at(0).isoformat()}' "
        f"AND time < '{at(24).isoformat()}' GROUP BY \"reason\""
    )
    assert {
        m.removeprefix("refused:"): int(v)
        for (s, m), v in figure.items()
        if s == whole and m.startswith("refused:")
    } == {r["reason"]: int(r["count"]) for r in by_reason}

    # Node availability: hours of the day with a health report, counted here from the times.
    times = influx.query(
        'SELECT "uptime_s" FROM "health" WHERE "ward" = \'phucla\' '
        f"AND time >= '{at(0).isoformat()}' AND time < '{at(24).isoformat()}' GROUP BY \"node\""
    )
    hours: Counter[str] = Counter()
    for node in {r["node"] for r in times}:
        hours[node] = len({r["time"] // 3_600_000_000_000 for r in times if r["node"] == node})
    for node in ("phucla-cp01-a", "phucla-cp02-a", "phucla-cp03-a"):
        assert float(figure[("", f"node_availability:{node}")]) == round(hours[node] / 24, 4)
    assert float(figure[("", "node_availability:phucla-cp03-a")]) == 0.0

    # Alerts: raised this day, acknowledged this day (with the wait), still open at the end.
    def alert_count(where: str) -> int:
        rows = influx.query(
            f'SELECT count("alert_id") FROM "alert" WHERE "ward" = \'phucla\' AND {where} '
            f"AND time >= '{at(0).isoformat()}' AND time < '{at(24).isoformat()}'"
        )
        return int(rows[0]["count"]) if rows else 0

    assert int(figure[("", "alerts_raised")]) == alert_count("\"change\" = 'new'") == 3
    assert int(figure[("", "alerts_acknowledged")]) == alert_count("\"change\" = 'acknowledged'")
    mean = influx.query(
        'SELECT mean("open_s") FROM "alert" WHERE "ward" = \'phucla\' AND '
        f"\"change\" = 'acknowledged' AND time >= '{at(0).isoformat()}' "
        f"AND time < '{at(24).isoformat()}'"
    )[0]["mean"]
    assert float(figure[("", "ack_mean_s")]) == round(mean, 1)
    assert float(figure[("", "ack_max_s")]) == 3600.0
    assert int(figure[("", "alerts_open_at_end")]) == 1  # a3
    assert figure[("", "unmanned_hours")] == "chưa ghi nhận / not recorded"

    [entry] = ctx.audit.entries(action="report.daily")
    assert (entry.target, entry.ward_id, entry.role) == (DAY.isoformat(), "phucla", "commander")


def test_daily_pdf_renders_with_its_chart_and_the_cli_writes_the_same_csv(
    api: tuple[TestClient, ApiContext], influx: InfluxV1, tmp_path: Path
) -> None:
    client, ctx = api
    commander = ctx.keys.issue(Role.COMMANDER, "cmd")[1]
    params = {"ward": "phucla", "date": DAY.isoformat(), "format": "pdf"}
    resp = client.get("/reports/daily", params=params, headers=auth(commander))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(resp.content)
    dpi = 60
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    page = Image.open(tmp_path / "page.png").convert("RGB")
    width, height = page.size
    assert abs(width - 210 / 25.4 * dpi) < 1.5  # A4
    assert abs(height - 297 / 25.4 * dpi) < 1.5

    def px(mm: float) -> int:
        return round(mm / 25.4 * dpi)

    chart = page.crop(
        (px(CHART_X) + 2, px(CHART_Y), px(CHART_X + CHART_W), px(CHART_Y + CHART_H) - 2)
    )
    raw = chart.tobytes()
    colours = Counter(tuple(raw[i : i + 3]) for i in range(0, len(raw), 3))
    green = sum(n for (r, g, b), n in colours.items() if g > 100 and g > r + 40 and g > b + 20)
    red = sum(n for (r, g, b), n in colours.items() if r > 150 and r > g + 60 and r > b + 60)
    assert green > 200  # admitted bars
    assert red > 20  # refused bars on top of them
    blank = sum(n for c, n in colours.items() if c == (255, 255, 255))
    assert blank > sum(colours.values()) / 5  # bars with room between them, not a box

    config = tmp_path / "hub.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "influx": {"url": influx.url, "database": influx.database},
                "wards": {"phucla": {"name": NAME}},
            },
            allow_unicode=True,
        )
    )
    ran = CliRunner().invoke(
        hub_app, ["report", "-c", str(config), "--ward", "phucla", "--date", DAY.isoformat()]
    )
    assert ran.exit_code == 0, ran.output
    api_csv = client.get(
        "/reports/daily", params={**params, "format": "csv"}, headers=auth(commander)
    ).text
    assert ran.stdout == api_csv
    out = tmp_path / "day.pdf"
    args = ["report", "-c", str(config), "--ward", "phucla", "--date", "2026-11-22"]
    ran = CliRunner().invoke(
        hub_app,
        [*args, "--format", "pdf", "--out", str(out)],
    )
    assert ran.exit_code == 0, ran.output
    assert out.read_bytes().startswith(b"%PDF")
