"""Authentication (API key as bearer token or X-API-Key) and role/ward authorisation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from hub.api.context import ApiContext
from hub.api.roles import Principal, Role
from hub.influx.v1 import InfluxV1
from hub.publisher import Publisher

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer cpk_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key: `cpk_...`")


def get_context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[ApiContext, Depends(get_context)]


def authenticate(
    ctx: ContextDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header: Annotated[str | None, Security(_header)],
) -> Principal:
    token = bearer.credentials if bearer is not None else header
    if not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing credentials: send 'Authorization: Bearer <API key>' or 'X-API-Key'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = ctx.keys.authenticate(token)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid or revoked API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets through the given roles; admin is always let through."""
    allowed = {*roles, Role.ADMIN}

    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {principal.role.value!r} may not do this (needs one of: {names})",
            )
        return principal

    return check


def ensure_ward(principal: Principal, ward_id: str) -> None:
    if not principal.may_act_in(ward_id):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"this API key is not allowed in ward {ward_id!r}"
        )


class InWard(Protocol):
    @property
    def ward_id(self) -> str: ...


W = TypeVar("W", bound=InWard)


def load_in_ward(who: Principal, load: Callable[[], W], missing: type[Exception]) -> W:
    """What ``load`` finds, if ``who`` may act in its ward: HTTP 404 when ``load`` raises
    ``missing``, 403 when the ward is not theirs."""
    try:
        found = load()
    except missing as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    ensure_ward(who, found.ward_id)
    return found


AnyRole = Annotated[Principal, Depends(require(Role.TECHNICIAN, Role.COMMANDER))]
Technician = Annotated[Principal, Depends(require(Role.TECHNICIAN))]
Commander = Annotated[Principal, Depends(require(Role.COMMANDER))]
Admin = Annotated[Principal, Depends(require())]


def require_influx(ctx: ContextDep) -> InfluxV1:
    if ctx.influx is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "InfluxDB is not configured")
    return ctx.influx


def require_downlink(ctx: ContextDep) -> Publisher:
    if ctx.downlink is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the broker is not configured")
    return ctx.downlink


InfluxDep = Annotated[InfluxV1, Depends(require_influx)]
DownlinkDep = Annotated[Publisher, Depends(require_downlink)]
