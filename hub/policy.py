"""Each ward's part of the zone policy (levels' rules, zones, shift plans), kept in the
state store; the hub composes them into the one signed ``policy`` trust document.

Every change gets a version above every earlier one (and above the defaults' 1), so nodes
take it as news; two hubs on one PostgreSQL read the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, Engine, Integer, String, Table, Text, func, select

from checkpoint.passes.documents import ZonePolicy
from checkpoint.passes.wardpolicy import WardPolicy, compose
from hub.state import metadata
from hub.state.types import UtcDateTime
from hub.state.upsert import upsert

DEFAULTS_VERSION = 1  # the version of the policy a hub publishes before any ward set one

ward_policies = Table(
    "ward_policies",
    metadata,
    Column("ward_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("rules", Text, nullable=False),  # WardPolicy as JSON
    Column("set_at", UtcDateTime(), nullable=False),
    Column("set_by", String(16), nullable=False),
)


@dataclass(frozen=True, slots=True)
class WardPolicyEntry:
    ward_id: str
    version: int
    rules: WardPolicy
    set_at: datetime
    set_by: str


class PolicyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine, tables=[ward_policies])

    def entries(self) -> dict[str, WardPolicyEntry]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ward_policies)).all()
        return {
            r.ward_id: WardPolicyEntry(
                r.ward_id, r.version, WardPolicy.model_validate_json(r.rules), r.set_at, r.set_by
            )
            for r in rows
        }

    def set(self, ward_id: str, rules: WardPolicy, by: str) -> ZonePolicy:
        """Record ``ward_id``'s rules; ValueError (nothing stored) if they clash with
        another ward's (a zone in both, another time zone)."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            current = conn.execute(select(func.max(ward_policies.c.version))).scalar()
            version = max(current or 0, DEFAULTS_VERSION) + 1
            others = {
                r.ward_id: WardPolicy.model_validate_json(r.rules)
                for r in conn.execute(select(ward_policies)).all()
                if r.ward_id != ward_id
            }
            document = compose({**others, ward_id: rules}, version, now)
            values = {
                "ward_id": ward_id,
                "version": version,
                "rules": rules.model_dump_json(),
                "set_at": now,
                "set_by": by,
            }
            upsert(conn, ward_policies, values, ["ward_id"])
        return document

    def document(self, now: datetime | None = None) -> ZonePolicy:
        """The composed policy now in force (the defaults while no ward has set one)."""
        entries = self.entries()
        version = max((e.version for e in entries.values()), default=DEFAULTS_VERSION)
        rules = {w: e.rules for w, e in entries.items()}
        return compose(rules, version, now or datetime.now(UTC))
