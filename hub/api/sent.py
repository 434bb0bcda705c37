"""What the API sent to nodes (config versions, commands), kept to report their outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Engine, String, Table, Text, insert, select

from hub.state import metadata
from hub.state.types import UtcDateTime

downlink_log = Table(
    "downlink_log",
    metadata,
    Column("id", String(64), primary_key=True),  # config: node/version; command: its id
    Column("kind", String(16), nullable=False),  # "config" or "command"
    Column("node_id", String(64), nullable=False, index=True),
    Column("ward_id", String(64), nullable=False),
    Column("name", String(64), nullable=False),  # config version, or command name
    Column("body", Text, nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("issued_by", String(16), nullable=False),
)


@dataclass(frozen=True, slots=True)
class Sent:
    id: str
    kind: str
    node_id: str
    ward_id: str
    name: str
    body: dict[str, Any]
    issued_at: datetime
    issued_by: str


class SentLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        kind: str,
        id_: str,
        node_id: str,
        ward_id: str,
        name: str,
        body: dict[str, Any],
        by: str,
    ) -> Sent:
        sent = Sent(id_, kind, node_id, ward_id, name, body, datetime.now(UTC), by)
        with self.engine.begin() as conn:
            conn.execute(
                insert(downlink_log).values(
                    id=id_,
                    kind=kind,
                    node_id=node_id,
                    ward_id=ward_id,
                    name=name,
                    body=json.dumps(body, default=str),
                    issued_at=sent.issued_at,
                    issued_by=by,
                )
            )
        return sent

    def get(self, kind: str, id_: str) -> Sent | None:
        with self.engine.connect() as conn:
            r = conn.execute(
                select(downlink_log).where(downlink_log.c.id == id_, downlink_log.c.kind == kind)
            ).first()
        if r is None:
            return None
        return Sent(
            r.id, r.kind, r.node_id, r.ward_id, r.name, json.loads(r.body), r.issued_at, r.issued_by
        )

    def latest_config(self, node_id: str) -> Sent | None:
        with self.engine.connect() as conn:
            r = conn.execute(
                select(downlink_log.c.id)
                .where(downlink_log.c.node_id == node_id, downlink_log.c.kind == "config")
                .order_by(downlink_log.c.issued_at.desc())
                .limit(1)
            ).first()
        return self.get("config", r.id) if r is not None else None
