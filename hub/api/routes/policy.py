"""A ward's part of the zone policy (command staff): who may pass at each level and zone,
when, with what checks, and the checkpoints' shift plans."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from checkpoint.passes.wardpolicy import WardPolicy
from hub.api.routes.levels import WardId
from hub.api.schemas import errors
from hub.api.security import AnyRole, Commander, ContextDep, ensure_ward
from hub.passes.desk import PassDesk

router = APIRouter(prefix="/wards", tags=["policy"], responses=errors(401, 403, 503))


class WardPolicyOut(BaseModel):
    ward_id: str
    version: int  # of the composed document that carries this ward's rules
    rules: WardPolicy
    set_at: datetime | None
    set_by: str | None


def _desk(ctx: ContextDep) -> PassDesk:
    if ctx.passes is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "passes are not enabled")
    return ctx.passes


def _out(desk: PassDesk, ward_id: str) -> WardPolicyOut:
    entry = desk.policies.entries().get(ward_id)
    version = desk.policy_now().version
    if entry is None:
        return WardPolicyOut(
            ward_id=ward_id, version=version, rules=WardPolicy(), set_at=None, set_by=None
        )
    return WardPolicyOut(
        ward_id=ward_id,
        version=version,
        rules=entry.rules,
        set_at=entry.set_at,
        set_by=entry.set_by,
    )


@router.get("/{ward_id}/policy", response_model=WardPolicyOut)
def get_policy(ward_id: WardId, who: AnyRole, ctx: ContextDep) -> WardPolicyOut:
    """The ward's rules; empty rules mean the common defaults apply."""
    ensure_ward(who, ward_id)
    return _out(_desk(ctx), ward_id)


@router.put("/{ward_id}/policy", response_model=WardPolicyOut, responses=errors(409))
def set_policy(ward_id: WardId, body: WardPolicy, who: Commander, ctx: ContextDep) -> WardPolicyOut:
    """Replace the ward's rules and send the signed policy to every node at once."""
    ensure_ward(who, ward_id)
    desk = _desk(ctx)
    try:
        document = desk.policies.set(ward_id, body, who.key_id)
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    ctx.audit.record(
        who, "policy.set", ward_id, ward_id=ward_id, detail={"version": document.version}
    )
    if not desk.publish_policy():
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "policy recorded, not yet delivered; the hub sends it with its next refresh",
        )
    return _out(desk, ward_id)
