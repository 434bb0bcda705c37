"""Counts per checkpoint and hour, for command staff."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from checkpoint.contract.models import Id
from hub.api import queries
from hub.api.schemas import errors
from hub.api.security import AnyRole, InfluxDep, ensure_ward
from hub.api.timewindow import window
from hub.influx.v1 import InfluxError

router = APIRouter(prefix="/stats", tags=["stats"], responses=errors(401, 403, 503))
MAX_RANGE = timedelta(days=31)


class HourOut(BaseModel):
    hour: datetime
    ward_id: str
    checkpoint_id: str
    passages: int
    admitted: int
    refused: int
    refused_by_reason: dict[str, int]
    fevers: int


@router.get("/hourly", response_model=list[HourOut])
def hourly(
    who: AnyRole,
    influx: InfluxDep,
    ward: Annotated[Id, Query(description="The ward")],
    checkpoint: Annotated[Id | None, Query(description="Only this checkpoint")] = None,
    since: Annotated[datetime | None, Query(description="Default: 24 hours ago")] = None,
    until: Annotated[datetime | None, Query(description="Default: now")] = None,
) -> list[HourOut]:
    """Passages, admitted, refused by reason and fevers per checkpoint and hour (<= 31 days)."""
    ensure_ward(who, ward)
    start, end = window(since, until, default=timedelta(days=1), maximum=MAX_RANGE)
    try:
        counts = queries.hourly_counts(
            influx, ward=ward, checkpoint=checkpoint, start=start, end=end
        )
    except InfluxError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    by_hour: dict[tuple[datetime, str], HourOut] = {}
    for c in counts:
        row = by_hour.setdefault(
            (c.hour, c.checkpoint_id),
            HourOut(
                hour=c.hour,
                ward_id=c.ward_id,
                checkpoint_id=c.checkpoint_id,
                passages=0,
                admitted=0,
                refused=0,
                refused_by_reason={},
                fevers=0,
            ),
        )
        row.passages += c.passages
        row.fevers += c.fevers
        if c.decision == "admit":
            row.admitted += c.passages
        else:
            row.refused += c.passages
            row.refused_by_reason[c.reason] = row.refused_by_reason.get(c.reason, 0) + c.passages
    return sorted(by_hour.values(), key=lambda r: (r.hour, r.checkpoint_id))
