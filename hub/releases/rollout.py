"""Staged rollouts: the canary node, then the rest of its checkpoint, then the ward.

Each stage publishes the desired-version document (retained, sealed with the hub's anchor
key) to its nodes and waits until every one of them reports the version ``applied``. A
node that reports the release ``refused`` or ``rolled_back`` pauses the rollout by itself,
with that node's reason; ``resume`` retries the stage. Progress lives in the state store,
so a restarted hub carries on where it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Column, Engine, Integer, String, Table, Text, insert, select, update

from checkpoint.contract import topics, uuid7
from checkpoint.release.desired import RELEASE_DOC, DesiredRelease
from hub.api import queries
from hub.influx.v1 import InfluxV1
from hub.publisher import Publisher, Signer, publish_document
from hub.state import metadata
from hub.state.types import UtcDateTime

STAGES = ("canary", "checkpoint", "ward")
AnchorKey = Callable[[], Signer | None]  # asked at each publication: keys rotate
State = Literal["running", "paused", "done"]

rollouts_table = Table(
    "rollouts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("ward_id", String(64), nullable=False, index=True),
    Column("canary", String(64), nullable=False),
    Column("checkpoint_id", String(64), nullable=False),
    Column("stage", Integer, nullable=False),  # index into STAGES; len(STAGES) when done
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("published", Text, nullable=False),  # JSON list: nodes told so far
    Column("created_at", UtcDateTime(), nullable=False),
    Column("stage_started", UtcDateTime(), nullable=False),  # reports count from here
    Column("updated_at", UtcDateTime(), nullable=False),
)


@dataclass(frozen=True, slots=True)
class Rollout:
    id: str
    version: str
    ward_id: str
    canary: str
    checkpoint_id: str
    stage: int
    state: str
    reason: str | None
    published: list[str]
    created_at: datetime
    stage_started: datetime
    updated_at: datetime

    @property
    def stage_name(self) -> str:
        return STAGES[self.stage] if self.stage < len(STAGES) else "done"


def _rollout(row: Any) -> Rollout:
    values = dict(row._mapping)
    values["published"] = json.loads(values["published"])
    return Rollout(**values)


def _time(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC)


def update_reports(
    influx: InfluxV1, ward: str, version: str, since: datetime
) -> list[dict[str, Any]]:
    """The nodes' UpdateReport events about ``version`` since ``since``, oldest first."""
    return influx.query(
        'SELECT * FROM "update" WHERE "ward" = $ward AND time >= $since '
        'AND ("to_version" = $version OR "from_version" = $version) ORDER BY time ASC',
        {"ward": ward, "since": since.astimezone(UTC).isoformat(), "version": version},
    )


class Rollouts:
    def __init__(
        self,
        engine: Engine,
        influx: InfluxV1,
        publisher: Publisher,
        signer: AnchorKey | None = None,
    ) -> None:
        """``signer`` gives the anchor key that seals the documents (None: unsealed,
        for development hubs without pass keys; nodes with anchors refuse those)."""
        self.engine = engine
        self.influx = influx
        self.publisher = publisher
        self.signer = signer

    def create(self, version: str, ward_id: str, canary: str, checkpoint_id: str) -> Rollout:
        now = datetime.now(UTC)
        rollout_id = f"ro-{uuid7()}"
        with self.engine.begin() as conn:
            conn.execute(
                insert(rollouts_table).values(
                    id=rollout_id,
                    version=version,
                    ward_id=ward_id,
                    canary=canary,
                    checkpoint_id=checkpoint_id,
                    stage=0,
                    state="running",
                    reason=None,
                    published="[]",
                    created_at=now,
                    stage_started=now,
                    updated_at=now,
                )
            )
        got = self.get(rollout_id)
        assert got is not None
        return got

    def get(self, rollout_id: str) -> Rollout | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(rollouts_table).where(rollouts_table.c.id == rollout_id)
            ).first()
        return None if row is None else _rollout(row)

    def running(self) -> list[Rollout]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(rollouts_table).where(rollouts_table.c.state == "running"))
            return [_rollout(r) for r in rows]

    def _set(self, rollout_id: str, **values: Any) -> None:
        if "published" in values:
            values["published"] = json.dumps(values["published"])
        with self.engine.begin() as conn:
            conn.execute(
                update(rollouts_table)
                .where(rollouts_table.c.id == rollout_id)
                .values(updated_at=datetime.now(UTC), **values)
            )

    def resume(self, rollout_id: str) -> Rollout | None:
        """Retry a paused rollout's stage (nodes that refused it are asked again)."""
        now = datetime.now(UTC)
        self._set(rollout_id, state="running", reason=None, published=[], stage_started=now)
        return self.get(rollout_id)

    def _stage_nodes(self, rollout: Rollout) -> list[str]:
        if rollout.stage == 0:
            return [rollout.canary]
        checkpoint = rollout.checkpoint_id if rollout.stage == 1 else None
        nodes = queries.node_health(self.influx, ward=rollout.ward_id, checkpoint=checkpoint)
        return sorted({rollout.canary, *(n.node_id for n in nodes)})

    def _publish(self, rollout: Rollout, node_id: str) -> None:
        desired = DesiredRelease(
            version=int(datetime.now(UTC).timestamp() * 1000),
            issued_at=datetime.now(UTC),
            release=rollout.version,
            rollout_id=rollout.id,
        )
        signer = self.signer() if self.signer is not None else None
        topic = topics.release_topic(node_id)
        publish_document(self.publisher, topic, RELEASE_DOC, desired, signer)

    def step(self) -> None:
        """Advance every running rollout as far as the nodes' reports allow."""
        for rollout in self.running():
            self._advance(rollout)

    def _advance(self, rollout: Rollout) -> None:
        nodes = self._stage_nodes(rollout)
        published = list(rollout.published)
        for node_id in nodes:
            if node_id not in published:
                self._publish(rollout, node_id)
                published.append(node_id)
        if published != rollout.published:
            self._set(rollout.id, published=published)
        # Running the version is not enough (a version on trial reports health too):
        # only a node's ``applied`` report, after its health gate, counts. Refusals count
        # from the stage's (re)start, so that a resumed stage is not paused by old news.
        applied: set[str] = set()
        reports = update_reports(self.influx, rollout.ward_id, rollout.version, rollout.created_at)
        for row in reports:
            if row["status"] == "applied":
                applied.add(row["node"])
            elif (
                row["status"] in ("refused", "rolled_back")
                and row["node"] in nodes
                and _time(row["time"]) >= rollout.stage_started
            ):
                detail = f"{row.get('why') or ''}: {row.get('detail') or ''}"
                self._set(
                    rollout.id,
                    state="paused",
                    reason=f"{row['node']} {row['status']} {rollout.version} ({detail})"[:2000],
                )
                return
        if set(nodes) <= applied:
            stage = rollout.stage + 1
            self._set(
                rollout.id,
                stage=stage,
                stage_started=datetime.now(UTC),
                state="done" if stage >= len(STAGES) else "running",
            )
