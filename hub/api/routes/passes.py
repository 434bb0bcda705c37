"""Passes: issued, listed, rendered (QR as PNG and SVG, printable card as PDF and PNG) and
revoked through the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from checkpoint.contract.models import Id
from checkpoint.passes import qr
from checkpoint.passes.errors import BadPassRequest, NoSigningKeyError
from checkpoint.passes.model import Category, HourWindow
from hub.api.context import ApiContext
from hub.api.roles import Principal
from hub.api.schemas import IsoDatetime, StrictBody, errors
from hub.api.security import AnyRole, ContextDep, ensure_ward, load_in_ward
from hub.passes import card
from hub.passes.desk import AlreadyRevokedError, IssuedRecord, PassDesk, PassNotFoundError, pass_of
from hub.wards import ward_name

Route = TypeVar("Route", bound=Callable[..., Any])
router = APIRouter(prefix="/passes", tags=["passes"], responses=errors(401, 403, 503))
PassId = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


def get_desk(ctx: ContextDep) -> PassDesk:
    if ctx.passes is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "pass issuing is not running")
    return ctx.passes


DeskDep = Annotated[PassDesk, Depends(get_desk)]


class PassIn(StrictBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "category": "resident",
                    "ward_id": "phucla",
                    "valid_days": 14,
                    "zone_id": "phucla-to7",
                    "label": "To 7, so 12",
                }
            ]
        },
    )

    category: Category
    ward_id: Id
    valid_days: int = Field(default=14, ge=1, le=90, description="Validity from valid_from")
    valid_from: IsoDatetime | None = Field(default=None, description="Default: now")
    zone_id: Id | None = None
    checkpoints: list[Id] = Field(
        default_factory=list,
        max_length=8,
        description="Only at these checkpoints; empty: the whole ward",
    )
    hours: list[HourWindow] = Field(
        default_factory=list,
        max_length=4,
        description="Daily windows (local minutes); empty: any time",
    )
    label: str = Field(default="", max_length=24, description="Shown on the card; not a name")
    document_number: str | None = Field(
        default=None,
        max_length=32,
        description="ID-card number: only its salted hash goes on the pass, never the number",
    )


class PassOut(BaseModel):
    pass_id: str
    ward_id: str
    category: str
    key_id: str
    label: str
    text: str = Field(description="The QR content")
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime
    issued_by: str
    revoked_at: datetime | None

    @classmethod
    def of(cls, r: IssuedRecord) -> PassOut:
        return cls.model_validate(r, from_attributes=True)


def _load(desk: PassDesk, pass_id: str, who: Principal) -> IssuedRecord:
    return load_in_ward(who, lambda: desk.get(pass_id), PassNotFoundError)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PassOut)
def issue_pass(body: PassIn, who: AnyRole, ctx: ContextDep, desk: DeskDep) -> PassOut:
    """Sign a pass (technician or commander). Get its QR as PNG/SVG or a printable card."""
    ensure_ward(who, body.ward_id)
    try:
        record = desk.issue(
            by=who.key_id,
            category=body.category,
            ward_id=body.ward_id,
            valid_for=timedelta(days=body.valid_days),
            valid_from=body.valid_from,
            zone_id=body.zone_id,
            checkpoints=tuple(body.checkpoints),
            hours=tuple(body.hours),
            label=body.label,
            document_number=body.document_number,
        )
    except NoSigningKeyError:
        # No server path in the answer: the API is not where keys are made.
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the hub has no pass signing key yet: an administrator creates one on the hub "
            "with `checkpoint passes keygen` (taken up without a restart)",
        ) from None
    except BadPassRequest as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body"], "msg": str(exc), "type": "value_error"}],
        ) from None
    # Never the document number in the audit: only what the pass itself shows.
    ctx.audit.record(
        who,
        "pass.issue",
        record.pass_id,
        ward_id=record.ward_id,
        detail={"category": record.category, "valid_until": record.valid_until},
    )
    return PassOut.of(record)


class SnapshotOut(BaseModel):
    version: int
    revoked: int


@router.post("/revocations/snapshot", response_model=SnapshotOut)
def publish_snapshot(who: AnyRole, ctx: ContextDep, desk: DeskDep) -> SnapshotOut:
    """Send the nodes the full revocation list now (for a node whose health says
    ``revocations_gap``: it missed a delta and waits for a snapshot)."""
    snapshot = desk.publish_snapshot()
    if snapshot is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the broker is not reachable")
    ctx.audit.record(
        who, "revocations.snapshot", "revocations", detail={"version": snapshot.version}
    )
    return SnapshotOut(version=snapshot.version, revoked=len(snapshot.revoked))


@router.get("", response_model=list[PassOut])
def list_passes(
    who: AnyRole,
    desk: DeskDep,
    ward: Annotated[Id | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[PassOut]:
    """Passes issued here, newest first."""
    if ward is not None:
        ensure_ward(who, ward)
    records = desk.find(wards=who.visible_wards(ward), limit=limit, offset=offset)
    return [PassOut.of(r) for r in records]


@router.get("/{pass_id}", response_model=PassOut, responses=errors(404))
def get_pass(pass_id: PassId, who: AnyRole, desk: DeskDep) -> PassOut:
    return PassOut.of(_load(desk, pass_id, who))


def _image(file: str, media_type: str, what: str) -> Callable[[Route], Route]:
    """The route of one of a pass's files (``/passes/{pass_id}/FILE``), documented as such."""
    return router.get(
        f"/{{pass_id}}/{file}",
        response_class=Response,
        responses={
            200: {"content": {media_type: {"schema": {"type": "string"}}}, "description": what},
            **errors(404),
        },
    )


@_image("qr.png", "image/png", "The QR code as PNG")
def pass_png(pass_id: PassId, who: AnyRole, desk: DeskDep) -> Response:
    return Response(qr.png(_load(desk, pass_id, who).text), media_type="image/png")


@_image("qr.svg", "image/svg+xml", "The QR code as SVG")
def pass_svg(pass_id: PassId, who: AnyRole, desk: DeskDep) -> Response:
    return Response(qr.svg(_load(desk, pass_id, who).text), media_type="image/svg+xml")


def _card(ctx: ApiContext, desk: PassDesk, pass_id: str, who: Principal) -> card.CardLayout:
    record = _load(desk, pass_id, who)
    name = ward_name(ctx.wards, record.ward_id)
    return card.layout(pass_of(record), record.text, ward_name=name)


@_image("card.pdf", "application/pdf", "The printable card, ID-1 size (85.6 x 54 mm)")
def pass_card_pdf(pass_id: PassId, who: AnyRole, ctx: ContextDep, desk: DeskDep) -> Response:
    """The card to print: QR, ward name (``wards.<ward>.name``), category, validity."""
    return Response(card.pdf(_card(ctx, desk, pass_id, who)), media_type="application/pdf")


@_image("card.png", "image/png", "The card as a 300 dpi image (1011 x 638 pixels)")
def pass_card_png(pass_id: PassId, who: AnyRole, ctx: ContextDep, desk: DeskDep) -> Response:
    return Response(card.png(_card(ctx, desk, pass_id, who)), media_type="image/png")


@router.post("/{pass_id}/revoke", response_model=PassOut, responses=errors(404, 409))
def revoke_pass(pass_id: PassId, who: AnyRole, ctx: ContextDep, desk: DeskDep) -> PassOut:
    """Revoke a pass; the nodes get the revocation at once (retained delta)."""
    record = _load(desk, pass_id, who)
    try:
        revoked = desk.revoke(pass_id)
    except AlreadyRevokedError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    ctx.audit.record(
        who, "pass.revoke", pass_id, ward_id=record.ward_id, detail={"category": record.category}
    )
    return PassOut.of(revoked)
