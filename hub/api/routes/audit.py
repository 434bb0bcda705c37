"""The audit log, newest first, paginated by id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from checkpoint.contract.models import Id
from hub.api.audit import AuditEntry
from hub.api.schemas import errors
from hub.api.security import Commander, ContextDep, ensure_ward

router = APIRouter(prefix="/audit", tags=["audit"], responses=errors(401, 403))


class AuditPage(BaseModel):
    items: list[AuditEntry]  # the stored entry as it is, newest first
    next_before_id: int | None


@router.get("", response_model=AuditPage)
def list_audit(
    who: Commander,
    ctx: ContextDep,
    ward: Annotated[Id | None, Query(description="Only this ward")] = None,
    action: Annotated[str | None, Query(max_length=48, examples=["alert.ack"])] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[
        int | None, Query(ge=1, le=2**62, description="Page: entries older than this id")
    ] = None,
) -> AuditPage:
    """Who changed what, when. A ward-limited key sees its wards' entries only."""
    if ward is not None:
        ensure_ward(who, ward)
    wards = who.visible_wards(ward)
    entries = ctx.audit.entries(wards=wards, action=action, limit=limit, before_id=before_id)
    return AuditPage(
        items=entries, next_before_id=entries[-1].id if len(entries) == limit else None
    )
