"""Error responses the framework would otherwise get slightly wrong.

An error body never echoes what was sent: FastAPI's validation errors carry each field's
``input``, which for a pass request is the holder's document number. Where the error is
says enough (``loc``, ``msg``, ``type``).
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException


def _methods_for(app: FastAPI, path: str) -> list[str]:
    methods: set[str] = set()
    for template, operations in app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            methods |= {m.upper() for m in operations}
    return sorted(methods)


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
    # POST on one path are two routes, so list what the OpenAPI document has for the path
    # (RFC 9110 wants every method the resource supports).
    allowed = _methods_for(request.app, request.url.path)
    return JSONResponse(
        {"detail": "Method Not Allowed"},
        status_code=405,
        headers={"Allow": ", ".join(sorted(allowed))},
    )


async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
    errors = [
        {"loc": e.get("loc", ["body"]), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
