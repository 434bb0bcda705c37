"""Wards and their checkpoints, as the nodes report them, with how many nodes are online."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from hub.api import queries
from hub.api.routes.nodes import OFFLINE_AFTER
from hub.api.schemas import errors
from hub.api.security import AnyRole, InfluxDep
from hub.influx.v1 import InfluxError

router = APIRouter(prefix="/wards", tags=["wards"], responses=errors(401, 403, 503))


class CheckpointOut(BaseModel):
    checkpoint_id: str
    nodes: int
    online: int
    last_seen: datetime


class WardOut(BaseModel):
    ward_id: str
    checkpoints: list[CheckpointOut]
    nodes: int
    online: int


@router.get("", response_model=list[WardOut])
def list_wards(who: AnyRole, influx: InfluxDep) -> list[WardOut]:
    """Every ward and checkpoint the key may see, with node counts (from the nodes' health)."""
    try:
        nodes = queries.node_health(influx, ward=None, checkpoint=None)
    except InfluxError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    now = datetime.now(UTC)
    wards: dict[str, dict[str, CheckpointOut]] = {}
    for n in nodes:
        if not who.may_act_in(n.ward_id):
            continue
        cps = wards.setdefault(n.ward_id, {})
        cp = cps.setdefault(
            n.checkpoint_id,
            CheckpointOut(checkpoint_id=n.checkpoint_id, nodes=0, online=0, last_seen=n.last_seen),
        )
        cp.nodes += 1
        cp.online += int(now - n.last_seen < OFFLINE_AFTER)
        cp.last_seen = max(cp.last_seen, n.last_seen)
    return [
        WardOut(
            ward_id=ward,
            checkpoints=sorted(cps.values(), key=lambda c: c.checkpoint_id),
            nodes=sum(c.nodes for c in cps.values()),
            online=sum(c.online for c in cps.values()),
        )
        for ward, cps in sorted(wards.items())
    ]
