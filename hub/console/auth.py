"""Sign in with an API key, sign out, and the language switch."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.console import i18n
from hub.console.session import COOKIE
from hub.console.web import ChangeSession, back_to, base, context, current, render, sessions

router = APIRouter(prefix="/console", include_in_schema=False)
# Only console pages are places to go back to (no open redirect through ?next=).
NEXT = re.compile(r"^/console(/[A-Za-z0-9/_-]*)?$")


@router.get("/sign-in", response_model=None)
def sign_in_page(request: Request) -> HTMLResponse | RedirectResponse:
    if current(request) is not None:
        return back_to(request, "/console")
    return render(request, "sign_in.html", None)


@router.post("/sign-in", response_model=None)
def sign_in(
    request: Request, key: Annotated[str, Form(max_length=200)]
) -> HTMLResponse | RedirectResponse:
    ctx = context(request)
    principal = ctx.keys.authenticate(key.strip())
    if principal is None:
        return render(request, "sign_in.html", None, status_code=401, failed=True)
    lifetime = timedelta(hours=ctx.console.session_hours)
    token, _ = sessions(request).open(principal, lifetime)
    response = back_to(request, "/console")
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        path=base(request) + "/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    ctx.audit.record(principal, "console.sign_in", principal.key_id)
    return response


@router.post("/sign-out")
def sign_out(request: Request, session: ChangeSession) -> RedirectResponse:
    sessions(request).close(request.cookies[COOKIE])
    response = back_to(request, "/console/sign-in")
    response.delete_cookie(COOKIE, path=base(request) + "/console")
    context(request).audit.record(session.principal, "console.sign_out", session.principal.key_id)
    return response


@router.get("/lang/{lang}")
def switch_language(
    request: Request, lang: str, next: Annotated[str, Query(max_length=200)] = "/console"
) -> RedirectResponse:
    response = back_to(request, next if NEXT.match(next) else "/console")
    if lang in i18n.LANGS:
        response.set_cookie(
            i18n.COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            path=base(request) + "/console",
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response
