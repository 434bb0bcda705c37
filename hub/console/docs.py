"""/docs and /redoc from assets shipped in the package (FastAPI's self-hosting recipe):
the stock pages load Swagger UI and ReDoc from a CDN, blank on a ward LAN with no internet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

from hub.console.web import base

STATIC = "/console/static"
# FastAPI's pages start Swagger UI with an inline script, and both UIs style inline; ReDoc
# runs its search in a blob: worker. Nothing may come from another host.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)

SWAGGER_ASSETS = {
    "swagger_js_url": "vendor/swagger-ui/swagger-ui-bundle.js",
    "swagger_css_url": "vendor/swagger-ui/swagger-ui.css",
    "swagger_favicon_url": "favicon.svg",
}
REDOC_ASSETS = {
    "redoc_js_url": "vendor/redoc/redoc.standalone.js",
    "redoc_favicon_url": "favicon.svg",
}


def _page(
    request: Request,
    app: FastAPI,
    make: Callable[..., HTMLResponse],
    name: str,
    assets: dict[str, str],
    **options: Any,
) -> HTMLResponse:
    """One of FastAPI's docs pages with its ``assets`` (argument -> file under ``STATIC``)
    served from here, under ``DOCS_CSP``."""
    root = base(request)
    page = make(
        openapi_url=root + str(app.openapi_url),
        title=f"{app.title} - {name}",
        **{key: f"{root}{STATIC}/{path}" for key, path in assets.items()},
        **options,
    )
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


def install(app: FastAPI) -> None:
    """Call with an app made with ``docs_url=None, redoc_url=None``."""

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        return _page(
            request,
            app,
            get_swagger_ui_html,
            "Swagger UI",
            SWAGGER_ASSETS,
            oauth2_redirect_url=base(request) + "/docs/oauth2-redirect",
            # The validator badge is an image from swagger.io: off.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        return _page(request, app, get_redoc_html, "ReDoc", REDOC_ASSETS, with_google_fonts=False)
