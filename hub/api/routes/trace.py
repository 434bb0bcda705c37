"""Tracing for commanders: where and when a pass was seen, and who passed a checkpoint.

Answers carry pass ids and holder hashes only (never a name), come from the stored passage
details (kept ``tracing.retention_days``), and every query is written to the audit log
with who asked what, whatever it found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel

from checkpoint.contract.models import Id
from hub.api.context import ApiContext
from hub.api.roles import Principal
from hub.api.schemas import errors
from hub.api.security import Commander, ContextDep, ensure_ward, require_influx
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


class SightingOut(Sighting):
    holder_hash: str | None  # hex; None when the pass was not issued by this hub or has none


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
    out = [SightingOut(**s.model_dump(), holder_hash=hashes[s.pass_id]) for s in found]
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


@dataclass
class Ask:
    """The query parameters both traces take."""

    ward: Ward
    since: Since = None
    until: Until = None
    limit: Limit = 1000


AskDep = Annotated[Ask, Depends()]


def _trace(ctx: ApiContext, who: Principal, by: str, value: str, ask: Ask) -> TraceOut:
    ensure_ward(who, ask.ward)
    start, end = window(ask.since, ask.until, default=timedelta(days=14), maximum=MAX_RANGE)
    influx = require_influx(ctx)
    try:
        found = queries.sightings(
            influx, ward=ask.ward, by=by, value=value, start=start, end=end, limit=ask.limit
        )
    except InfluxError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    answer = _answer(ctx, found, start, end, ask.limit)
    _audit(ctx, who, f"trace.{by}", value, ask.ward, answer)
    return answer


@router.get("/passes/{pass_id}", response_model=TraceOut)
def pass_seen(pass_id: PassId, who: Commander, ctx: ContextDep, ask: AskDep) -> TraceOut:
    """Where and when this pass was seen in the ward, oldest first (audited)."""
    return _trace(ctx, who, "pass", pass_id, ask)


@router.get("/checkpoints/{checkpoint_id}", response_model=TraceOut)
def checkpoint_passed(
    checkpoint_id: Annotated[Id, Path()], who: Commander, ctx: ContextDep, ask: AskDep
) -> TraceOut:
    """Which passes went through this checkpoint between since and until, oldest first
    (audited)."""
    return _trace(ctx, who, "checkpoint", checkpoint_id, ask)
