"""Software releases and their rollouts (technicians); node downloads; fleet versions."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from checkpoint.contract.models import Id
from checkpoint.release.manifest import VERSION_PATTERN
from checkpoint.release.signing import ReleaseError
from hub.api import queries
from hub.api.schemas import StrictBody, errors
from hub.api.security import AnyRole, ContextDep, InfluxDep, Technician, ensure_ward
from hub.releases.rollout import Rollout, Rollouts
from hub.releases.store import ReleaseStore, StoredRelease

T = TypeVar("T")
router = APIRouter(tags=["releases"], responses=errors(401, 403, 503))
Version = Annotated[str, Path(pattern=VERSION_PATTERN, examples=["0.2.0"])]


class ReleaseOut(BaseModel):
    version: str
    size: int
    manifest_sha256: str
    uploaded_at: datetime
    uploaded_by: str


class RolloutIn(StrictBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"version": "0.2.0", "ward_id": "phucla", "canary": "phucla-cp07-n1"}]
        },
    )

    version: str = Field(pattern=VERSION_PATTERN)
    ward_id: Id
    canary: Id = Field(description="The node that takes the release first")


class RolloutOut(BaseModel):
    id: str
    version: str
    ward_id: str
    canary: str
    checkpoint_id: str
    stage: str = Field(description="canary, checkpoint, ward or done")
    state: str = Field(description="running, paused (see reason) or done")
    reason: str | None
    nodes: list[str] = Field(description="Nodes told to run the version so far")


def _configured(part: T | None, what: str) -> T:
    if part is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{what} are not configured")
    return part


def _store(ctx: ContextDep) -> ReleaseStore:
    return _configured(ctx.releases, "releases")


def _rollouts(ctx: ContextDep) -> Rollouts:
    return _configured(ctx.rollouts, "rollouts")


def _out(r: StoredRelease) -> ReleaseOut:
    return ReleaseOut(**{k: getattr(r, k) for k in ReleaseOut.model_fields})


def _rollout_out(r: Rollout) -> RolloutOut:
    return RolloutOut(
        id=r.id,
        version=r.version,
        ward_id=r.ward_id,
        canary=r.canary,
        checkpoint_id=r.checkpoint_id,
        stage=r.stage_name,
        state=r.state,
        reason=r.reason,
        nodes=r.published,
    )


@router.post(
    "/releases",
    status_code=status.HTTP_201_CREATED,
    response_model=ReleaseOut,
    responses=errors(409, 413, 422),
)
async def upload_release(request: Request, who: Technician, ctx: ContextDep) -> ReleaseOut:
    """Upload a release (a tar.gz of `checkpoint release build`'s directory). It is kept
    only if its signature and every file's sha256 check out against the release key."""
    store = _store(ctx)
    body = await request.body()
    if len(body) > ctx.releases_max_bytes:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "the release is too large")
    try:
        stored = store.add(body, who.key_id)
    except ReleaseError as exc:
        code = status.HTTP_409_CONFLICT if exc.reason == "exists" else 422
        raise HTTPException(code, str(exc)) from None
    ctx.audit.record(who, "release.upload", stored.version, detail={"size": stored.size})
    return _out(stored)


@router.get("/releases", response_model=list[ReleaseOut])
def list_releases(who: AnyRole, ctx: ContextDep) -> list[ReleaseOut]:
    return [_out(r) for r in _store(ctx).all()]


@router.get(
    "/releases/{version}/files/{path:path}", responses=errors(404), response_class=FileResponse
)
def release_file(version: Version, path: str, ctx: ContextDep) -> FileResponse:
    """A release's manifest, signature or file, for nodes. No key: a release is public and
    the node checks its signature and every hash itself."""
    found = _store(ctx).file(version, path)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no file {path!r} in release {version!r}")
    return FileResponse(found, media_type="application/octet-stream")


@router.get("/fleet/versions", response_model=dict[str, dict[str, list[str]]])
def fleet_versions(
    who: AnyRole, influx: InfluxDep, ward: Annotated[Id | None, Query()] = None
) -> dict[str, dict[str, list[str]]]:
    """Per ward: each software version and the nodes that last reported it in health."""
    if ward is not None:
        ensure_ward(who, ward)
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for n in queries.node_health(influx, ward=ward, checkpoint=None):
        if who.may_act_in(n.ward_id):
            out[n.ward_id][str(n.fields.get("software_version") or "unknown")].append(n.node_id)
    return {w: dict(v) for w, v in out.items()}


@router.post(
    "/rollouts",
    status_code=status.HTTP_201_CREATED,
    response_model=RolloutOut,
    responses=errors(404, 409),
)
def start_rollout(
    body: RolloutIn, who: Technician, ctx: ContextDep, influx: InfluxDep
) -> RolloutOut:
    """Roll a release out to a ward: the canary, then its checkpoint, then the ward. It
    pauses by itself when a node refuses the release or rolls it back."""
    ensure_ward(who, body.ward_id)
    if _store(ctx).get(body.version) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no release {body.version!r} uploaded")
    canary = next(
        (
            n
            for n in queries.node_health(influx, ward=body.ward_id, checkpoint=None)
            if n.node_id == body.canary
        ),
        None,
    )
    if canary is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"{body.canary!r} has not reported in ward {body.ward_id!r}"
        )
    rollout = _rollouts(ctx).create(body.version, body.ward_id, body.canary, canary.checkpoint_id)
    ctx.audit.record(
        who,
        "rollout.start",
        rollout.id,
        ward_id=body.ward_id,
        detail={"version": body.version, "canary": body.canary},
    )
    return _rollout_out(rollout)


@router.get("/rollouts/{rollout_id}", response_model=RolloutOut, responses=errors(404))
def get_rollout(
    rollout_id: Annotated[str, Path(max_length=64)], who: AnyRole, ctx: ContextDep
) -> RolloutOut:
    rollout = _rollouts(ctx).get(rollout_id)
    if rollout is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no rollout {rollout_id!r}")
    ensure_ward(who, rollout.ward_id)
    return _rollout_out(rollout)


@router.post("/rollouts/{rollout_id}/resume", response_model=RolloutOut, responses=errors(404))
def resume_rollout(
    rollout_id: Annotated[str, Path(max_length=64)], who: Technician, ctx: ContextDep
) -> RolloutOut:
    """Retry a paused rollout's stage, after the reason it paused is dealt with."""
    rollouts = _rollouts(ctx)
    rollout = rollouts.get(rollout_id)
    if rollout is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no rollout {rollout_id!r}")
    ensure_ward(who, rollout.ward_id)
    resumed = rollouts.resume(rollout_id)
    assert resumed is not None
    ctx.audit.record(who, "rollout.resume", rollout_id, ward_id=rollout.ward_id)
    return _rollout_out(resumed)
