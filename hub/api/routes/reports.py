"""The daily briefing for command staff: a ward's day as CSV or a printable PDF."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from checkpoint.contract.models import Id
from hub.api.schemas import errors
from hub.api.security import Commander, ContextDep, InfluxDep, ensure_ward
from hub.api.timewindow import EARLIEST, LATEST
from hub.influx.v1 import InfluxError
from hub.reports.render import MEDIA_TYPES, ReportFormat, daily_report, file_name

router = APIRouter(prefix="/reports", tags=["reports"], responses=errors(401, 403, 503))


@router.get(
    "/daily",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {}, "application/pdf": {}},
            "description": "The report",
        }
    },
)
def daily(
    who: Commander,
    ctx: ContextDep,
    influx: InfluxDep,
    ward: Annotated[Id, Query(description="The ward")],
    day: Annotated[date, Query(alias="date", description="The local day, YYYY-MM-DD")],
    fmt: Annotated[ReportFormat, Query(alias="format")] = ReportFormat.CSV,
) -> Response:
    """Passages admitted and refused by reason, fevers and overrides per shift, node
    availability, alerts and time to acknowledge, for one ward and local day."""
    ensure_ward(who, ward)
    if not EARLIEST.date() < day < LATEST.date():
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["query", "date"], "msg": "date out of range", "type": "value_error"}],
        )
    try:
        body = daily_report(influx, ctx.reports, ctx.wards, ward, day, fmt)
    except InfluxError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    ctx.audit.record(who, "report.daily", day.isoformat(), ward_id=ward, detail={"format": fmt})
    disposition = f'attachment; filename="{file_name(ward, day, fmt)}"'
    return Response(body, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition})
