"""The app factory: ``create_app(ApiContext(...))``."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from checkpoint import __version__
from hub.api import errors
from hub.api.context import ApiContext
from hub.api.routes import (
    alerts,
    audit,
    health,
    keys,
    levels,
    nodes,
    passes,
    policy,
    releases,
    reports,
    stats,
    trace,
    wards,
)
from hub.console import auth, board, checkpoints, docs, web
from hub.console import levels as console_levels
from hub.console import passes as console_passes


def create_app(ctx: ApiContext) -> FastAPI:
    app = FastAPI(
        title="Checkpoint hub API",
        version=__version__,
        description=(
            "For technicians (nodes, configs, commands) and ward command staff (alerts, zone "
            "levels, passes). Every route but /healthz, /readyz and /metrics needs an API key "
            "(`Authorization: Bearer cpk_...` or `X-API-Key`), whose role and wards decide "
            "what it may do. Every change is written to the audit log. Command staff "
            "work in the console at /console (sign in with an API key)."
        ),
        # Served from the package's own copies (hub/console/docs.py), not a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    errors.install(app)
    for router in (
        health.router,
        alerts.router,
        passes.router,
        wards.router,
        nodes.router,
        levels.router,
        reports.router,
        policy.router,
        stats.router,
        trace.router,
        keys.router,
        audit.router,
        releases.router,
    ):
        app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=web.HERE / "static"), name="console-static")
    docs.install(app)
    if ctx.console.enabled:
        web.install(app)
        for page in (auth, board, checkpoints, console_levels, console_passes):
            app.include_router(page.router)
    return app
