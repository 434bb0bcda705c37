"""Alerts for command staff: list and filter, acknowledge with a note, resolve, and a live
stream of changes (server-sent events)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from checkpoint.contract.alerts import AlertMessage, AlertState
from checkpoint.contract.models import Id
from hub.alerts.errors import AlertConflictError, AlertNotFoundError
from hub.alerts.escalation import Standing
from hub.alerts.model import Alert
from hub.alerts.store import AlertStore
from hub.alerts.tables import alert_changes
from hub.alerts.tables import alerts as alerts_table
from hub.api.context import ApiContext
from hub.api.roles import Principal
from hub.api.schemas import StrictBody, errors
from hub.api.security import AnyRole, Commander, ContextDep, ensure_ward, load_in_ward
from hub.api.timewindow import window
from hub.state.filters import narrowed

router = APIRouter(prefix="/alerts", tags=["alerts"], responses=errors(401, 403, 503))
AlertId = Annotated[str, Path(max_length=36, pattern=r"^[0-9a-f-]+$")]


class EscalationOut(BaseModel):
    """Where the alert is in its ward's escalation chain (hub config alerts.escalation)."""

    tier: int = Field(description="0 is the first tier")
    tier_name: str
    notices: int = Field(description="Notifications sent so far (its history lists each)")
    last_at: datetime = Field(description="When the last notice was sent")
    next_at: datetime | None = Field(
        description="When the next re-send or escalation falls; null: nobody is told again "
        "(acknowledged, resolved, or a chain that neither re-sends nor escalates)"
    )


class AlertOut(BaseModel):
    id: str
    ward_id: str
    checkpoint_id: str | None
    node_id: str | None
    kind: str
    severity: Literal["info", "warning", "critical"]
    state: AlertState
    summary: str
    details: dict[str, Any]
    count: int
    flapping: bool
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    note: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    escalated_at: datetime | None
    escalation: EscalationOut | None

    @classmethod
    def of(cls, a: Alert, standing: Standing | None) -> AlertOut:
        stored = {name: getattr(a, name) for name in cls.model_fields if name != "escalation"}
        escalation = None if standing is None else EscalationOut(**asdict(standing))
        return cls(**stored, escalation=escalation)

    @classmethod
    def each(cls, store: AlertStore, found: list[Alert]) -> list[AlertOut]:
        standing = store.standing(found)
        return [cls.of(a, standing.get(a.id)) for a in found]


class AlertsPage(BaseModel):
    items: list[AlertOut]
    next_offset: int | None


class NoteIn(StrictBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"note": "team 3 on the way; re-measured 37.1"}]},
    )

    note: str = Field(default="", max_length=512, examples=["team 3 on the way"])


def get_alert_store(ctx: ContextDep) -> AlertStore:
    if ctx.alerts is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "alerting is not running")
    return ctx.alerts


StoreDep = Annotated[AlertStore, Depends(get_alert_store)]


def _visible(who: Principal, ward: str | None) -> frozenset[str] | None:
    if ward is not None:
        ensure_ward(who, ward)
    return who.visible_wards(ward)


def _person(who: Principal) -> str:
    return f"{who.label} ({who.key_id})"


@router.get("", response_model=AlertsPage)
def list_alerts(
    who: AnyRole,
    store: StoreDep,
    ward: Annotated[Id | None, Query()] = None,
    checkpoint: Annotated[Id | None, Query()] = None,
    kind: Annotated[str | None, Query(max_length=48, examples=["fever"])] = None,
    state: Annotated[AlertState | None, Query()] = None,
    since: Annotated[
        datetime | None, Query(description="Opened at or after; default 7 days ago")
    ] = None,
    until: Annotated[datetime | None, Query(description="Opened before; default now")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> AlertsPage:
    """Alerts newest first, filtered by ward, checkpoint, kind, state and opening time."""
    wards = _visible(who, ward)
    start, end = window(since, until, default=timedelta(days=7), maximum=timedelta(days=366))
    t = alerts_table
    q = narrowed(
        select(t).where(t.c.opened_at >= start, t.c.opened_at < end),
        (t.c.ward_id, wards),
        (t.c.checkpoint_id, checkpoint),
        (t.c.kind, kind),
        (t.c.state, state.value if state is not None else None),
    )
    q = q.order_by(t.c.opened_at.desc(), t.c.id.desc()).limit(limit + 1).offset(offset)
    with store.engine.connect() as conn:
        found = [Alert.from_row(r) for r in conn.execute(q)]
    items = AlertOut.each(store, found[:limit])
    return AlertsPage(items=items, next_offset=offset + limit if len(found) > limit else None)


def _load(store: AlertStore, alert_id: str, who: Principal) -> Alert:
    return load_in_ward(who, lambda: store.get(alert_id), AlertNotFoundError)


@router.get(
    "/stream",
    summary="Live alert changes (server-sent events)",
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "One `alert` event per change, its data the contract AlertMessage "
            "(as on the ward's MQTT topic); reconnect with Last-Event-ID to resume",
        }
    },
)
async def stream(
    request: Request,
    who: AnyRole,
    ctx: ContextDep,
    store: StoreDep,
    ward: Annotated[Id | None, Query()] = None,
    last_event_id: Annotated[str | None, Header(max_length=20, pattern=r"^[0-9]*$")] = None,
) -> StreamingResponse:
    """Every change to an alert the key may see, in order, as it happens. Each event's id
    is a cursor: a client that reconnects with ``Last-Event-ID`` gets what it missed."""
    return alert_stream(request, ctx, store, _visible(who, ward), last_event_id)


def alert_stream(
    request: Request,
    ctx: ApiContext,
    store: AlertStore,
    wards: frozenset[str] | None,
    last_event_id: str | None,
) -> StreamingResponse:
    """The stream itself, shared by the API (key in a header) and the console (session
    cookie: EventSource cannot set headers)."""

    async def events() -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ctx.stream_max_s
        latest = await asyncio.to_thread(latest_change, store)
        # A client cannot have seen a change that does not exist yet: an id past the latest
        # (a reset state store, or a made-up number too big for the database) means "now".
        cursor = min(int(last_event_id), latest) if last_event_id else latest
        # retry: how soon EventSource reconnects after a drop (a hub restart), in ms.
        yield b"retry: 1000\n: connected\n\n"
        quiet_since = loop.time()
        while (
            loop.time() < deadline
            and not ctx.closing.is_set()
            and not await request.is_disconnected()
        ):
            for change_id, payload in await asyncio.to_thread(_changes, store, cursor, wards):
                cursor = change_id
                quiet_since = loop.time()
                yield f"id: {change_id}\nevent: alert\ndata: {payload}\n\n".encode()
            if loop.time() - quiet_since >= ctx.stream_keepalive_s:
                quiet_since = loop.time()
                yield b": keep-alive\n\n"
            await asyncio.sleep(min(ctx.stream_poll_s, ctx.stream_keepalive_s))

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


def latest_change(store: AlertStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.max(alert_changes.c.id))).scalar() or 0)


def _changes(store: AlertStore, cursor: int, wards: frozenset[str] | None) -> list[tuple[int, str]]:
    t = alert_changes
    q = select(t.c.id, t.c.payload).where(t.c.id > cursor)
    if wards is not None:
        q = q.where(t.c.ward_id.in_(sorted(wards)))
    with store.engine.connect() as conn:
        return [(r.id, r.payload) for r in conn.execute(q.order_by(t.c.id).limit(500))]


class ChangeOut(BaseModel):
    id: int
    change: str
    at: datetime
    message: AlertMessage


@router.get("/{alert_id}/history", response_model=list[ChangeOut], responses=errors(404))
def history(alert_id: AlertId, who: AnyRole, store: StoreDep) -> list[ChangeOut]:
    """Every change of an alert, oldest first: opened, updated, renotified and escalated
    (each notice with its tier and targets), acknowledged (by whom, with their note),
    resolved."""
    _load(store, alert_id, who)
    t = alert_changes
    q = select(t).where(t.c.alert_id == alert_id).order_by(t.c.id)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    return [
        ChangeOut(
            id=r.id,
            change=r.change,
            at=r.at if r.at.tzinfo is not None else r.at.replace(tzinfo=UTC),
            message=AlertMessage.model_validate_json(r.payload),
        )
        for r in rows
    ]


@router.get("/{alert_id}", response_model=AlertOut, responses=errors(404))
def get_alert(alert_id: AlertId, who: AnyRole, store: StoreDep) -> AlertOut:
    """One alert with who acknowledged or resolved it, when, and their note, and where it
    is in its escalation chain."""
    return AlertOut.each(store, [_load(store, alert_id, who)])[0]


def _change(
    action: str,
    act: Callable[[str, str, str], Alert],
    alert_id: str,
    note: str,
    who: Principal,
    ctx: ApiContext,
    store: AlertStore,
) -> AlertOut:
    """A person's change to an alert: checked against their ward, made, audited."""
    alert = _load(store, alert_id, who)
    try:
        changed = act(alert_id, _person(who), note)
    except AlertConflictError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    detail = {"kind": alert.kind, "note": note}
    ctx.audit.record(who, action, alert_id, ward_id=alert.ward_id, detail=detail)
    return AlertOut.each(store, [changed])[0]


@router.post("/{alert_id}/ack", response_model=AlertOut, responses=errors(404, 409))
def acknowledge(
    alert_id: AlertId, body: NoteIn, who: Commander, ctx: ContextDep, store: StoreDep
) -> AlertOut:
    """Acknowledge an alert (stops its escalation). 409 if it is already resolved."""
    return _change("alert.ack", store.acknowledge, alert_id, body.note, who, ctx, store)


@router.post("/{alert_id}/resolve", response_model=AlertOut, responses=errors(404, 409))
def resolve(
    alert_id: AlertId, body: NoteIn, who: Commander, ctx: ContextDep, store: StoreDep
) -> AlertOut:
    """Resolve an alert by hand. 409 if it is already resolved."""
    return _change("alert.resolve", store.resolve, alert_id, body.note, who, ctx, store)
