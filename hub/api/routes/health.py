"""Liveness, readiness and metrics: the only routes without authentication."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from hub.api.security import ContextDep

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: str = "ok"


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, bool]


@router.get("/healthz", response_model=Liveness, summary="The API process answers")
def healthz() -> Liveness:
    return Liveness()


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Broker, InfluxDB and state store are reachable",
    responses={503: {"model": Readiness, "description": "Something is not reachable"}},
)
def readyz(ctx: ContextDep, response: Response) -> Readiness:
    checks = {name: probe() for name, probe in sorted(ctx.probes.items())}
    ready = all(checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(ready=ready, checks=checks)


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
