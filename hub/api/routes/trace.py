"""Tracing for commanders: where and when a pass was seen, and who passed a checkpoint.

Answers carry pass ids and holder hashes only (never a name), come from the stored passage
details (kept ``tracing.retention_days``), and every query is written to the audit log
with who asked what, whatever it found.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel

from checkpoint.contract.models import Id
from hub.api.context import ApiContext
from hub.api.roles import Principal
from hub.api.schemas import errors
from hub.api.security import Commander, ContextDep, InfluxDep, ensure_ward
from hub.api.timewindow import window
from hub.influx.v1 import InfluxError
from hub.passes.desk import PassNotFoundError, pass_of
from hub.tracing import queries
from hub.tracing.queries import Sighting

router = APIRouter(prefix="/trace", tags=["tracing"], responses=errors(401, 403, 503))
MAX_RANGE = timedelta(days=31)
PassId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Ward = Annotated[Id, Query(description="The ward")]
Since = Annotated[datetime | None, Query(description="Default: 14 days before until")]
Until = Annotated[datetime | None, Query(description="Default: now")]
Limit = Annotated[int, Query(ge=1, le=5000, description="At most this many passages")]


class SightingOut(BaseModel):
    time: datetime
    ward_id: str
    checkpoint_id: str
    node_id: str
    direction: str
    decision: str
    reason: str
    pass_id: str
    holder_hash: str | None  # hex; None when the pass was not issued by this hub or has none
    event_id: str


class TraceOut(BaseModel):
    since: datetime
    until: datetime
    passages: list[SightingOut]
    truncated: bool


def _answer(
    ctx: ApiContext, found: list[Sighting], start: datetime, end: datetime, limit: int
) -> TraceOut:
    hashes: dict[str, str | None] = {}
    for pass_id in {s.pass_id for s in found}:
        hashes[pass_id] = None
        if ctx.passes is not None:
            try:
                holder = pass_of(ctx.passes.get(pass_id)).holder_hash
            except PassNotFoundError:
                continue
            hashes[pass_id] = holder.hex() if holder else None
    out = [
        SightingOut.model_validate(asdict(s) | {"holder_hash": hashes[s.pass_id]}) for s in found
    ]
    return TraceOut(since=start, until=end, passages=out, truncated=len(found) >= limit)


def _audit(
    ctx: ApiContext, who: Principal, action: str, target: str, ward: str, answer: TraceOut
) -> None:
    detail = {
        "since": answer.since.isoformat(),
        "until": answer.until.isoformat(),
        "passages": len(answer.passages),
    }
    ctx.audit.record(who, action, target, ward_id=ward, detail=detail)


@router.get("/passes/{pass_id}", response_model=TraceOut)
def pass_seen(
    pass_id: PassId,
    who: Commander,
    ctx: ContextDep,
    influx: InfluxDep,
    ward: Ward,
    since: Since = None,
    until: Until = None,
    limit: Limit = 1000,
) -> TraceOut:
    """Where and when this pass was seen in the ward, oldest first (audited)."""
    ensure_ward(who, ward)
    start, end = window(since, until, default=timedelta(days=14), maximum=MAX_RANGE)
    try:
        found = queries.pass_seen(
            influx, ward=ward, pass_id=pass_id, start=start, end=end, limit=limit
        )
    except InfluxError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    answer = _answer(ctx, found, start, end, limit)
    _audit(ctx, who, "trace.pass", pass_id, ward, answer)
    return answer


@router.get("/checkpoints/{checkpoint_id}", response_model=TraceOut)
def checkpoint_passed(
    checkpoint_id: Annotated[Id, Path()],
    who: Commander,
    ctx: ContextDep,
    influx: InfluxDep,
    ward: Ward,
    since: Since = None,
    until: Until = None,
    limit: Limit = 1000,
) -> TraceOut:
    """Which passes went through this checkpoint between since and until (audited)."""
    ensure_ward(who, ward)
    start, end = window(since, until, default=timedelta(days=14), maximum=MAX_RANGE)
    try:
        found = queries.checkpoint_passed(
            influx, ward=ward, checkpoint=checkpoint_id, start=start, end=end, limit=limit
        )
    except InfluxError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    answer = _answer(ctx, found, start, end, limit)
    _audit(ctx, who, "trace.checkpoint", checkpoint_id, ward, answer)
    return answer
