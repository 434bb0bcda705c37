"""The passes desk (commanders and admins): issue a pass, print its card, revoke it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from checkpoint.passes.model import Category
from hub.api.roles import Role
from hub.api.routes import passes as api
from hub.console.web import (
    ChangeSession,
    PageSession,
    allow,
    back_to,
    context,
    render,
    visible_wards,
)
from hub.passes.desk import PassDesk

router = APIRouter(prefix="/console", include_in_schema=False)


def _desk(request: Request) -> PassDesk:
    return api.get_desk(context(request))


@router.get("/passes", response_class=HTMLResponse)
def passes_page(request: Request, session: PageSession) -> HTMLResponse:
    who = allow(session, Role.COMMANDER)
    records = api.list_passes(who, _desk(request), limit=200)
    known = set(context(request).wards) | {r.ward_id for r in records}
    return render(
        request,
        "passes.html",
        session,
        passes=records,
        categories=[c.value for c in Category],
        wards=visible_wards(session, known),
        view="passes",
    )


@router.post("/passes")
def issue(
    request: Request,
    session: ChangeSession,
    ward_id: Annotated[str, Form(max_length=64)],
    category: Annotated[str, Form(max_length=32)],
    valid_days: Annotated[int, Form(ge=1, le=90)] = 14,
    label: Annotated[str, Form(max_length=24)] = "",
    zone_id: Annotated[str, Form(max_length=64)] = "",
) -> RedirectResponse:
    who = allow(session, Role.COMMANDER)
    try:
        body = api.PassIn(
            ward_id=ward_id,
            category=category,  # type: ignore[arg-type]  # validated by PassIn
            valid_days=valid_days,
            label=label,
            zone_id=zone_id or None,
        )
    except ValidationError as exc:
        detail = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from None
    issued = api.issue_pass(body, who, context(request), _desk(request))
    return back_to(request, f"/console/passes#{issued.pass_id}")


@router.get("/passes/{pass_id}/card")
def card(request: Request, pass_id: api.PassId, session: PageSession) -> Response:
    """The API's printable card, for the signed-in browser."""
    return api.pass_card_pdf(
        pass_id, allow(session, Role.COMMANDER), context(request), _desk(request)
    )


@router.post("/passes/{pass_id}/revoke")
def revoke(request: Request, pass_id: api.PassId, session: ChangeSession) -> RedirectResponse:
    who = allow(session, Role.COMMANDER)
    api.revoke_pass(pass_id, who, context(request), _desk(request))
    return back_to(request, "/console/passes")
