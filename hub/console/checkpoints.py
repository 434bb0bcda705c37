"""Every checkpoint of the key's wards, its state told apart (online with traffic, online
and quiet, offline since when), its nodes' last health, its open alerts, and a link to its
Grafana detail dashboard."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse

from hub.api import queries
from hub.api.routes.alerts import get_alert_store
from hub.api.routes.nodes import OFFLINE_AFTER
from hub.api.security import require_influx
from hub.console.board import open_alerts
from hub.console.web import PageSession, context, render, visible_wards
from hub.influx.v1 import InfluxError

router = APIRouter(prefix="/console", include_in_schema=False)
DETAIL_DASHBOARD = "checkpoint-detail"  # hub/dashboards/checkpoint_detail.py


@dataclass
class CheckpointView:
    ward_id: str
    checkpoint_id: str
    nodes: list[queries.NodeHealth] = field(default_factory=list)
    last_passage: datetime | None = None
    open_alerts: int = 0
    state: Literal["traffic", "quiet", "offline"] = "offline"
    since: datetime | None = None  # offline: when the last node was last heard
    grafana: str | None = None


def online(node: queries.NodeHealth, now: datetime) -> bool:
    return now - node.last_seen < OFFLINE_AFTER


def checkpoint_views(request: Request, wards: frozenset[str] | None) -> list[CheckpointView]:
    ctx = context(request)
    influx = require_influx(ctx)
    now = datetime.now(UTC)
    window = timedelta(seconds=ctx.console.traffic_window_s)
    try:
        health = queries.node_health(influx, ward=None, checkpoint=None)
        passages = queries.last_passages(influx, since=now - window)
    except InfluxError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    alerts = Counter(
        (a.ward_id, a.checkpoint_id)
        for a in open_alerts(get_alert_store(ctx), wards)
        if a.checkpoint_id is not None
    )
    views: dict[tuple[str, str], CheckpointView] = {}
    for node in health:
        if wards is None or node.ward_id in wards:
            key = (node.ward_id, node.checkpoint_id)
            views.setdefault(key, CheckpointView(*key)).nodes.append(node)
    for ward_id, checkpoint_id in alerts:
        views.setdefault((ward_id, checkpoint_id), CheckpointView(ward_id, checkpoint_id))
    for key, view in views.items():
        view.open_alerts = alerts[key]
        view.last_passage = passages.get(key)
        if any(online(n, now) for n in view.nodes):
            view.state = "traffic" if view.last_passage is not None else "quiet"
        else:
            view.since = max((n.last_seen for n in view.nodes), default=None)
        if ctx.console.grafana_url:
            query = urlencode({"var-ward": view.ward_id, "var-checkpoint": view.checkpoint_id})
            view.grafana = f"{ctx.console.grafana_url.rstrip('/')}/d/{DETAIL_DASHBOARD}?{query}"
    return sorted(views.values(), key=lambda v: (v.ward_id, v.checkpoint_id))


@router.get("/checkpoints", response_class=HTMLResponse)
def checkpoints(request: Request, session: PageSession) -> HTMLResponse:
    views = checkpoint_views(request, session.principal.wards)
    return render(
        request,
        "checkpoints.html",
        session,
        wards=visible_wards(session, {v.ward_id for v in views}),
        checkpoints=views,
        now=datetime.now(UTC),
        online=online,
        view="checkpoints",
    )
