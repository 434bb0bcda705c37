"""Liveness, readiness and metrics: the only routes without authentication."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from hub.api.security import ContextDep

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: str = "ok"


class Readiness(BaseModel):
    ready: bool = Field(description="Broker, InfluxDB and state store all reachable")
    checks: dict[str, bool]
    missing: list[str] = Field(
        default_factory=list,
        description="What the hub lacks to do all of its work, e.g. a pass signing key; "
        "the hub serves without it, and the list empties once it is there",
    )


@router.get("/healthz", response_model=Liveness, summary="The API process answers")
def healthz() -> Liveness:
    return Liveness()


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Broker, InfluxDB and state store are reachable; what the hub still lacks",
    responses={503: {"model": Readiness, "description": "Something is not reachable"}},
)
def readyz(ctx: ContextDep, response: Response) -> Readiness:
    checks = {name: probe() for name, probe in sorted(ctx.probes.items())}
    ready = all(checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(ready=ready, checks=checks, missing=ctx.lacks())


@router.get(
    "/metrics",
    summary="Prometheus metrics of the hub",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(ctx: ContextDep) -> Response:
    if ctx.metrics is None:
        return Response(b"", media_type="text/plain; version=0.0.4")
    body, content_type = ctx.metrics()
    return Response(body, media_type=content_type)
