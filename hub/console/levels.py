"""Zone levels: what is set in each ward, which nodes already apply the ward's latest levels
document (their health reports its version), and, for commanders, setting a level after a
confirmation step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.api import queries
from hub.api.roles import Role
from hub.api.routes import levels as api
from hub.api.security import ensure_ward, require_downlink, require_influx
from hub.console.checkpoints import online
from hub.console.web import (
    ChangeSession,
    PageSession,
    allow,
    back_to,
    context,
    may,
    render,
    visible_wards,
)
from hub.influx.v1 import InfluxError
from hub.levels import LevelStore

router = APIRouter(prefix="/console", include_in_schema=False)
Target = Annotated[str, Form(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Level = Annotated[str, Form(max_length=64)]


@router.get("/levels", response_class=HTMLResponse)
def levels_page(request: Request, session: PageSession) -> HTMLResponse:
    ctx = context(request)
    store = LevelStore(ctx.engine)
    try:
        health = queries.node_health(require_influx(ctx), ward=None, checkpoint=None)
    except InfluxError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    known = {n.ward_id for n in health} | set(ctx.wards) | store.wards()
    wards = []
    for ward_id in visible_wards(session, known):
        doc = api.get_levels(ward_id, session.principal, ctx)
        nodes = [n for n in health if n.ward_id == ward_id]
        wards.append(
            {
                "id": ward_id,
                "doc": doc,
                "nodes": nodes,
                "targets": sorted(
                    {n.checkpoint_id for n in nodes} | {e.target for e in doc.levels}
                ),
            }
        )
    return render(
        request,
        "levels.html",
        session,
        wards=wards,
        levels=sorted(ctx.levels),
        may_set=may(session, Role.COMMANDER),
        # The store keeps who set a level by key id; people read the key's label.
        people={p.key_id: p.label for p, _, _ in ctx.keys.list()},
        now=datetime.now(UTC),
        online=online,
        view="levels",
    )


def _checked(request: Request, session: ChangeSession, ward_id: str, level: str) -> None:
    allow(session, Role.COMMANDER)
    ensure_ward(session.principal, ward_id)
    if level not in context(request).levels:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown level {level!r}")


@router.post("/levels/{ward_id}/confirm", response_class=HTMLResponse)
def confirm(
    request: Request, ward_id: api.WardId, session: ChangeSession, target: Target, level: Level
) -> HTMLResponse:
    """The confirmation step: nothing changes until the commander confirms."""
    _checked(request, session, ward_id, level)
    return render(
        request,
        "level_confirm.html",
        session,
        ward_id=ward_id,
        target=target,
        level=level,
        view="levels",
    )


@router.post("/levels/{ward_id}")
def set_level(
    request: Request, ward_id: api.WardId, session: ChangeSession, target: Target, level: Level
) -> RedirectResponse:
    _checked(request, session, ward_id, level)
    ctx = context(request)
    who = session.principal
    api.set_level(ward_id, target, api.LevelIn(level=level), who, ctx, require_downlink(ctx))
    return back_to(request, "/console/levels")
