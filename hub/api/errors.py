"""Error responses the framework would otherwise get slightly wrong."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 400 and "parsing the body" in str(exc.detail):
        # A body that is not JSON at all: answer like any other invalid body (422, in the
        # documented validation-error shape) instead of an undocumented 400.
        return JSONResponse(
            {
                "detail": [
                    {"loc": ["body"], "msg": "the body is not valid JSON", "type": "json_invalid"}
                ]
            },
            status_code=422,
        )
    if exc.status_code != 405:
        return await http_exception_handler(request, exc)
    # Starlette's Allow header names only the first route that matched the path; GET and
    # POST on one path are two routes, so collect the methods of all of them (RFC 9110).
    allowed: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        methods = getattr(route, "methods", None)
        if match is not Match.NONE and methods:
            allowed |= set(methods)
    return JSONResponse(
        {"detail": "Method Not Allowed"},
        status_code=405,
        headers={"Allow": ", ".join(sorted(allowed))},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
