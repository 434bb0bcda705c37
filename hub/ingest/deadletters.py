"""The dead-letter store: every message the hub refused, with its raw bytes and why.

Kept in the hub's state store (hub/state), so that a technician can see what a node
sent and replay it once the node (or the hub) is fixed. Written in the same batch as the
good points, before the batch is acknowledged: a refused message is never lost either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
    select,
)

from hub.state import metadata

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("topic", String(1024), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("payload_bytes", Integer, nullable=False, comment="Size before any truncation"),
)
Index("ix_dead_letters_reason_time", dead_letters.c.reason, dead_letters.c.received_at)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    received_at: datetime
    topic: str
    reason: str
    detail: str
    payload: bytes
    payload_bytes: int


class DeadLetterStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_many(self, letters: Sequence[DeadLetter]) -> None:
        """Insert in one transaction; committed (durable) when this returns."""
        if not letters:
            return
        rows = [
            {
                "received_at": d.received_at,
                "topic": d.topic[:1024],
                "reason": d.reason[:32],
                "detail": d.detail,
                "payload": d.payload,
                "payload_bytes": d.payload_bytes,
            }
            for d in letters
        ]
        with self.engine.begin() as conn:
            conn.execute(dead_letters.insert(), rows)

    def count_by_reason(self) -> dict[str, int]:
        query = select(dead_letters.c.reason, func.count()).group_by(dead_letters.c.reason)
        with self.engine.connect() as conn:
            return {str(reason): int(n) for reason, n in conn.execute(query)}

    def recent(self, limit: int = 100, reason: str | None = None) -> list[DeadLetter]:
        query = select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit)
        if reason is not None:
            query = query.where(dead_letters.c.reason == reason)
        with self.engine.connect() as conn:
            return [
                DeadLetter(
                    received_at=row.received_at,
                    topic=row.topic,
                    reason=row.reason,
                    detail=row.detail,
                    payload=bytes(row.payload),
                    payload_bytes=row.payload_bytes,
                )
                for row in conn.execute(query)
            ]
