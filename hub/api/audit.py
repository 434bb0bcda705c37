"""The audit log: every change made through the API, with who, when and what."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Engine, Integer, String, Table, Text, insert, select

from hub.api.roles import Principal
from hub.state import metadata
from hub.state.filters import narrowed
from hub.state.types import UtcDateTime

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", UtcDateTime(), nullable=False, index=True),
    Column("key_id", String(16), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(48), nullable=False),
    Column("ward_id", String(64), nullable=True, index=True),
    Column("target", String(128), nullable=False),
    Column("detail", Text, nullable=False),
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    ts: datetime
    key_id: str
    role: str
    action: str
    ward_id: str | None
    target: str
    detail: dict[str, Any]


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        who: Principal,
        action: str,
        target: str,
        *,
        ward_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit_log).values(
                    ts=datetime.now(UTC),
                    key_id=who.key_id,
                    role=who.role.value,
                    action=action,
                    ward_id=ward_id,
                    target=target,
                    detail=json.dumps(detail or {}, default=str),
                )
            )

    def entries(
        self,
        *,
        wards: frozenset[str] | None = None,
        action: str | None = None,
        target: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[AuditEntry]:
        c = audit_log.c
        q = select(audit_log).order_by(c.id.desc()).limit(limit)
        q = narrowed(q, (c.ward_id, wards), (c.action, action), (c.target, target))
        if before_id is not None:
            q = q.where(audit_log.c.id < before_id)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [
            AuditEntry(
                r.id, r.ts, r.key_id, r.role, r.action, r.ward_id, r.target, json.loads(r.detail)
            )
            for r in rows
        ]
