"""API keys: issued, listed and revoked by admins.

An admin key limited to wards sees, issues and revokes only keys within those wards: it
can never make a key that may do more than itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field

from checkpoint.contract.models import Id
from hub.api.keys import UnknownKeyError
from hub.api.roles import Role
from hub.api.schemas import StrictBody, errors
from hub.api.security import Admin, ContextDep

router = APIRouter(prefix="/keys", tags=["keys"], responses=errors(401, 403))


class KeyCreate(StrictBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"role": "commander", "label": "Phuc La night shift", "wards": ["phucla"]}]
        },
    )

    role: Role
    label: str = Field(min_length=1, max_length=128, examples=["Phuc La night shift"])
    wards: list[Id] | None = Field(
        default=None, max_length=100, description="Limit the key to these wards; null: all"
    )


class KeyOut(BaseModel):
    key_id: str
    role: Role
    label: str
    wards: list[str] | None
    created_at: datetime | None = None
    revoked_at: datetime | None = None


class KeyCreated(KeyOut):
    token: str = Field(description="The key itself. Shown once; store it now.")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyCreated)
def create_key(body: KeyCreate, who: Admin, ctx: ContextDep) -> KeyCreated:
    """Issue a key with a role, optionally limited to wards (within the issuer's own)."""
    wards = sorted(set(body.wards)) if body.wards is not None else None
    if not who.covers(body.role, frozenset(wards) if wards is not None else None):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "this API key may issue keys only within its own wards: list them in 'wards'",
        )
    principal, token = ctx.keys.issue(body.role, body.label, wards=wards, created_by=who.key_id)
    ctx.audit.record(
        who,
        "key.issue",
        principal.key_id,
        detail={"role": body.role.value, "label": body.label, "wards": wards},
    )
    return KeyCreated(
        key_id=principal.key_id,
        role=principal.role,
        label=principal.label,
        wards=sorted(principal.wards) if principal.wards is not None else None,
        token=token,
    )


@router.get("", response_model=list[KeyOut])
def list_keys(who: Admin, ctx: ContextDep) -> list[KeyOut]:
    """Every key ever issued within the caller's wards (tokens are never shown again)."""
    return [
        KeyOut(
            key_id=p.key_id,
            role=p.role,
            label=p.label,
            wards=sorted(p.wards) if p.wards is not None else None,
            created_at=created,
            revoked_at=revoked,
        )
        for p, created, revoked in ctx.keys.list()
        if who.covers(p.role, p.wards)
    ]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404))
def revoke_key(
    key_id: Annotated[str, Path(max_length=16, pattern="^[0-9a-f]+$")], who: Admin, ctx: ContextDep
) -> None:
    """Revoke a key within the caller's wards; it stops working at once."""
    try:
        target = ctx.keys.get(key_id)
        if not who.covers(target.role, target.wards):
            # As if it did not exist: a ward's admin learns nothing of other wards' keys.
            raise UnknownKeyError(f"no active API key {key_id!r}")
        ctx.keys.revoke(key_id)
    except UnknownKeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    ctx.audit.record(who, "key.revoke", key_id)
