"""What every console page shares: the signed-in session, the CSRF check on changes, the
language, and rendering a template with all of that."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.api.context import ApiContext
from hub.api.roles import Principal, Role
from hub.api.security import require
from hub.console import i18n
from hub.console.session import COOKIE, Session, SessionStore
from hub.wards import ward_name as configured_name

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
# The browser itself refuses anything from elsewhere (and inline script): a second line
# behind shipping every asset, should a template ever name an outside address.
CONSOLE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class SignInRequiredError(Exception):
    """A page was asked for without a valid session: the browser goes to sign-in."""


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


def sessions(request: Request) -> SessionStore:
    ctx = context(request)
    return SessionStore(ctx.engine, ctx.keys)


def base(request: Request) -> str:
    """The path prefix when served behind a reverse proxy (api.root_path)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def current(request: Request) -> Session | None:
    return sessions(request).get(request.cookies.get(COOKIE))


def page_session(request: Request) -> Session:
    session = current(request)
    if session is None:
        raise SignInRequiredError
    return session


def stream_session(request: Request) -> Session:
    session = current(request)
    if session is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in to the console first")
    return session


async def change_session(request: Request) -> Session:
    """A change (POST): a session, and its CSRF token in the form or the header."""
    session = stream_session(request)
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        form = await request.form()  # Starlette keeps it: the route's Form fields reuse it
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not session.csrf_ok(token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    return session


PageSession = Annotated[Session, Depends(page_session)]
ChangeSession = Annotated[Session, Depends(change_session)]


def allow(session: Session, *roles: Role) -> Principal:
    """The API's own role check (admin always passes): 403 otherwise."""
    return require(*roles)(session.principal)


def may(session: Session, *roles: Role) -> bool:
    return session.principal.role in {*roles, Role.ADMIN}


def language(request: Request) -> str:
    return i18n.pick(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))


def ward_name(request: Request) -> Callable[[str], str]:
    wards = context(request).wards
    return lambda ward_id: configured_name(wards, ward_id) or ward_id


def local_time(request: Request) -> Callable[[datetime | None], str]:
    zone = ZoneInfo(context(request).console.timezone)
    return lambda ts: "" if ts is None else ts.astimezone(zone).strftime("%H:%M:%S %d/%m/%Y")


def visible_wards(session: Session, known: set[str]) -> list[str]:
    """The wards a page shows: the key's own, or every ward the hub knows of."""
    wards = session.principal.wards
    return sorted(wards if wards is not None else known)


def render(
    request: Request, name: str, session: Session | None, status_code: int = 200, **values: Any
) -> HTMLResponse:
    lang = language(request)
    root = base(request)
    path = request.url.path
    page = {
        "t": i18n.translator(lang),
        "lang": lang,
        "base": base(request),
        "session": session,
        "csrf": session.csrf if session is not None else "",
        "ward_name": ward_name(request),
        "when": local_time(request),
        "path": path[len(root) :] if root and path.startswith(root) else path,
        "commander": session is not None and may(session, Role.COMMANDER),
        **values,
    }
    response = templates.TemplateResponse(request, name, page, status_code=status_code)
    response.headers["Content-Security-Policy"] = CONSOLE_CSP
    # A followed Grafana link must not carry the console's URLs (alert ids) along.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def back_to(request: Request, path: str) -> RedirectResponse:
    """After a change: show the page again (303: the browser GETs it)."""
    return RedirectResponse(base(request) + path, status_code=status.HTTP_303_SEE_OTHER)


def install(app: FastAPI) -> None:
    async def sign_in_first(request: Request, _exc: Exception) -> Response:
        return RedirectResponse(
            base(request) + "/console/sign-in", status_code=status.HTTP_303_SEE_OTHER
        )

    api_errors = app.exception_handlers[StarletteHTTPException]

    async def error_page(request: Request, exc: Exception) -> Response:
        """A person in a browser gets the refusal as a console page; scripts and the API
        keep the JSON body."""
        console = request.url.path.startswith(base(request) + "/console/")
        wants_html = "text/html" in request.headers.get("accept", "")
        if console and wants_html and isinstance(exc, StarletteHTTPException):
            return render(
                request,
                "error.html",
                current(request),
                status_code=exc.status_code,
                status=exc.status_code,
                detail=exc.detail if isinstance(exc.detail, str) else str(exc.detail),
            )
        answer = api_errors(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(SignInRequiredError, sign_in_first)
    app.add_exception_handler(StarletteHTTPException, error_page)
