"""The app factory: ``create_app(ApiContext(...))``."""

from __future__ import annotations

from fastapi import FastAPI

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
    stats,
    wards,
)


def create_app(ctx: ApiContext) -> FastAPI:
    app = FastAPI(
        title="Checkpoint hub API",
        version=__version__,
        description=(
            "For technicians (nodes, configs, commands) and ward command staff (alerts, zone "
            "levels, passes). Every route but /healthz, /readyz and /metrics needs an API key "
            "(`Authorization: Bearer cpk_...` or `X-API-Key`), whose role and wards decide "
            "what it may do. Every change is written to the audit log."
        ),
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
        policy.router,
        stats.router,
        keys.router,
        audit.router,
    ):
        app.include_router(router)
    return app
