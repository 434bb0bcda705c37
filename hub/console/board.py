"""The alert board: open alerts by severity and age, live; one alert with its history and
audit trail; acknowledge and resolve with a note."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Header, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from hub.alerts.model import Alert
from hub.alerts.store import AlertStore
from hub.api.roles import Role
from hub.api.routes import alerts as api
from hub.console.web import (
    ChangeSession,
    PageSession,
    allow,
    back_to,
    context,
    may,
    render,
    stream_session,
)

router = APIRouter(prefix="/console", include_in_schema=False)
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
Note = Annotated[str, Form(max_length=512)]


def _store(request: Request) -> AlertStore:
    return api.get_alert_store(context(request))


def open_alerts(store: AlertStore, wards: frozenset[str] | None) -> list[Alert]:
    """Unresolved alerts the key may see: the most severe first, then the oldest."""
    found = [a for a in store.find(active=True) if wards is None or a.ward_id in wards]
    return sorted(found, key=lambda a: (SEVERITY_ORDER.get(a.severity, 9), a.opened_at))


def age(t: Callable[..., str], since: datetime) -> str:
    """'12 min' / '1 h 5 min' in the page's language (``t`` is its translator)."""
    seconds = max(0, int((datetime.now(UTC) - since).total_seconds()))
    if seconds < 60:
        return t("seconds", n=seconds)
    if seconds < 3600:
        return t("minutes", n=seconds // 60)
    return t("hours", n=seconds // 3600, m=seconds % 3600 // 60)


def _rows(request: Request, session: PageSession, template: str) -> HTMLResponse:
    store = _store(request)
    # The cursor first: a change made while the list is read is then sent again by the
    # stream, never lost between the two.
    cursor = api.latest_change(store)
    return render(
        request,
        template,
        session,
        alerts=open_alerts(store, session.principal.wards),
        cursor=cursor,
        age=age,
        view="board",
    )


@router.get("", response_class=HTMLResponse)
def board(request: Request, session: PageSession) -> HTMLResponse:
    return _rows(request, session, "board.html")


@router.get("/board/rows", response_class=HTMLResponse)
def board_rows(request: Request, session: PageSession) -> HTMLResponse:
    """The board's table alone: the page's script swaps it in when the stream says so."""
    return _rows(request, session, "board_rows.html")


@router.get("/stream")
def stream(
    request: Request,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    last_event_id: Annotated[str | None, Header(max_length=20, pattern=r"^[0-9]*$")] = None,
) -> StreamingResponse:
    """The API's alert stream with the session cookie. ``after`` is the change the page was
    rendered at, so nothing between rendering and connecting is missed; a reconnect sends
    Last-Event-ID, which wins."""
    session = stream_session(request)
    cursor = last_event_id or (str(after) if after is not None else None)
    return api.alert_stream(
        request, context(request), _store(request), session.principal.wards, cursor
    )


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: api.AlertId, session: PageSession) -> HTMLResponse:
    store = _store(request)
    who = session.principal
    alert = api.get_alert(alert_id, who, store)  # 404, or 403 outside the key's wards
    return render(
        request,
        "alert.html",
        session,
        alert=alert,
        history=api.history(alert_id, who, store),
        audit=context(request).audit.entries(target=alert_id, limit=200),
        may_change=may(session, Role.COMMANDER),
        age=age,
        view="board",
    )


# The API's own routes do the work: the same ward check, conflict answer and audit entry.
CHANGES = {"ack": api.acknowledge, "resolve": api.resolve}


@router.post("/alerts/{alert_id}/{action}")
def change(
    request: Request,
    alert_id: api.AlertId,
    action: Literal["ack", "resolve"],
    session: ChangeSession,
    note: Note = "",
) -> RedirectResponse:
    """Acknowledge or resolve with a note (commanders and admins)."""
    who = allow(session, Role.COMMANDER)
    CHANGES[action](alert_id, api.NoteIn(note=note), who, context(request), _store(request))
    return back_to(request, f"/console/alerts/{alert_id}")
