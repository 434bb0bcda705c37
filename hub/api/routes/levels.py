"""Zone and checkpoint levels (command staff): changing one changes who may pass there."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field

from checkpoint.contract.models import Id
from hub.api.schemas import StrictBody, errors
from hub.api.security import AnyRole, Commander, ContextDep, DownlinkDep, ensure_ward
from hub.levels import LevelStore, publish
from hub.publisher import PublishError

router = APIRouter(prefix="/wards", tags=["levels"], responses=errors(401, 403, 503))
WardId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", examples=["phucla"])]
TargetId = Annotated[
    str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Zone or checkpoint id")
]


class LevelIn(StrictBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"level": "red"}]})

    level: Id = Field(examples=["red", "level4"])


class LevelOut(BaseModel):
    target: str
    level: str
    set_at: datetime
    set_by: str


class WardLevels(BaseModel):
    ward_id: str
    version: int
    levels: list[LevelOut]


def _out(store: LevelStore, ward_id: str) -> WardLevels:
    entries = store.entries(ward_id)
    return WardLevels(
        ward_id=ward_id,
        version=max((e.version for e in entries), default=0),
        levels=[
            LevelOut(target=e.target, level=e.level, set_at=e.set_at, set_by=e.set_by)
            for e in entries
        ],
    )


@router.get("/{ward_id}/levels", response_model=WardLevels)
def get_levels(ward_id: WardId, who: AnyRole, ctx: ContextDep) -> WardLevels:
    """The levels set in a ward; places without an entry use their node's configured level."""
    ensure_ward(who, ward_id)
    return _out(LevelStore(ctx.engine), ward_id)


@router.put("/{ward_id}/levels/{target}", response_model=WardLevels)
def set_level(
    ward_id: WardId,
    target: TargetId,
    body: LevelIn,
    who: Commander,
    ctx: ContextDep,
    downlink: DownlinkDep,
) -> WardLevels:
    """Set a zone's or checkpoint's level and send the ward's levels to its nodes."""
    ensure_ward(who, ward_id)
    if body.level not in ctx.levels:
        known = ", ".join(sorted(ctx.levels))
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [
                {
                    "loc": ["body", "level"],
                    "type": "value_error",
                    "msg": f"unknown level {body.level!r}; the zone policy knows: {known}",
                }
            ],
        )
    store = LevelStore(ctx.engine)
    doc = store.set(ward_id, target, body.level, who.key_id)
    ctx.audit.record(
        who,
        "level.set",
        target,
        ward_id=ward_id,
        detail={"level": body.level, "version": doc.version},
    )
    try:
        publish(downlink, doc, ctx.passes.levels_signer() if ctx.passes else None)
    except PublishError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"level recorded, not yet delivered ({exc}); the hub republishes at start",
        ) from None
    return _out(store, ward_id)
