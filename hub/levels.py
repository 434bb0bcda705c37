"""Zone and checkpoint levels set by command staff, kept in the state store and published
to the ward's nodes as one retained, versioned document."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, Engine, Integer, String, Table, func, select

from checkpoint.contract import topics
from checkpoint.contract.levels import ZoneLevels, levels_topic
from hub.publisher import Publisher, PublishError, Signer, publish_document
from hub.state import metadata
from hub.state.types import UtcDateTime
from hub.state.upsert import upsert

log = logging.getLogger(__name__)

zone_levels = Table(
    "zone_levels",
    metadata,
    Column("ward_id", String(64), primary_key=True),
    Column("target", String(64), primary_key=True),  # zone or checkpoint id
    Column("level", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("set_at", UtcDateTime(), nullable=False),
    Column("set_by", String(16), nullable=False),
)


@dataclass(frozen=True, slots=True)
class LevelEntry:
    ward_id: str
    target: str
    level: str
    version: int
    set_at: datetime
    set_by: str


class LevelStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def set(self, ward_id: str, target: str, level: str, by: str) -> ZoneLevels:
        """Record the level and return the ward's new document (not yet published)."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            current = conn.execute(
                select(func.max(zone_levels.c.version)).where(zone_levels.c.ward_id == ward_id)
            ).scalar()
            version = (current or 0) + 1
            values = {
                "ward_id": ward_id,
                "target": target,
                "level": level,
                "version": version,
                "set_at": now,
                "set_by": by,
            }
            upsert(conn, zone_levels, values, ["ward_id", "target"])
        return self.document(ward_id)

    def entries(self, ward_id: str) -> list[LevelEntry]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(zone_levels)
                .where(zone_levels.c.ward_id == ward_id)
                .order_by(zone_levels.c.target)
            ).all()
        return [
            LevelEntry(r.ward_id, r.target, r.level, r.version, r.set_at, r.set_by) for r in rows
        ]

    def wards(self) -> frozenset[str]:
        """Every ward with a level set."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(zone_levels.c.ward_id).distinct())
            return frozenset(str(r[0]) for r in rows)

    def document(self, ward_id: str) -> ZoneLevels:
        entries = self.entries(ward_id)
        return ZoneLevels(
            ward_id=ward_id,
            version=max((e.version for e in entries), default=1),
            issued_at=max((e.set_at for e in entries), default=datetime.now(UTC)),
            levels={e.target: e.level for e in entries},
        )


def publish(downlink: Publisher, doc: ZoneLevels, signer: Signer | None = None) -> None:
    """Retained on the ward's levels topic, sealed with the anchor key like the other trust
    documents (nodes with anchors configured take nothing else)."""
    topic = levels_topic(doc.ward_id)
    publish_document(downlink, topic, topics.trust_name(topic) or topic, doc, signer)


def republish_levels(engine: Engine, downlink: Publisher, signer: Signer | None = None) -> None:
    """At hub start: a level set while the broker was away reaches the nodes now."""
    store = LevelStore(engine)
    for ward in sorted(store.wards()):
        try:
            publish(downlink, store.document(ward), signer)
        except PublishError as exc:
            log.warning("levels of ward %s not republished: %s", ward, exc)
