"""A node's disk fills up while its uplink is down, then the uplink comes back.

What the node must do (docs/edge-uplink.md, DESIGN.md "nothing is lost silently", "edge
decides"): keep deciding passages and driving the barrier; never crash; let telemetry give
way first; count every event it could not keep (``outbox_dropped`` in health) and say so
(the ``disk_full`` flag, on which the hub raises ``disk_critical``); deliver every event it
did accept once the uplink is back; and take events again once its backlog has drained.

The disk is a real tmpfs of a few MiB, most of it taken by another program's runaway log,
so SQLite meets a real ENOSPC-bounded filesystem. The node is the real runtime
(EdgeService: outbox, link, health) around the real node code on simulated hardware; the
test calls its ``emit_health`` itself so that every event is emitted from one thread and the
account can balance to the event.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checkpoint.contract import Health, decode_event, topics
from checkpoint.contract.models import Decision, EventBase, Passage
from checkpoint.contract.node.config import HealthConfig, NodeConfig
from checkpoint.contract.node.uplink import LinkSettings, OutboxSettings, UplinkSettings
from checkpoint.settings.mqtt import MqttSettings
from edge.events import Emitter
from edge.service import EdgeService
from edge.sim.node import SimNode, node_config
from edge.sim.ward import CountingEmitter
from hub.influx.v1 import InfluxV1
from tests.helpers import wait_for
from tests.reliability.conftest import Ledger
from tests.reliability.ledger import account, fired_alert_kinds, stored_event_ids
from tests.reliability.nodeside import LONG, running_hub
from tests.smallfs import fill, small_filesystem

HEADROOM = 1024 * 1024  # uplink.outbox.disk_headroom_bytes, scaled to a small disk


class RecordingService(EdgeService):
    """The runtime, telling the test about the health events it emits itself."""

    def __init__(self, config: NodeConfig, record: list[EventBase]) -> None:
        self.record = record
        self.sim: SimNode | None = None

        def factory(cfg: NodeConfig, emitter: Emitter) -> SimNode:
            self.sim = SimNode(cfg, CountingEmitter(emitter, record.append), seed=7)
            return self.sim

        super().__init__(config, node_factory=factory)

    def emit_health(self) -> Health:
        health = super().emit_health()
        self.record.append(health)
        return health

    def start(self) -> SimNode:
        """What ``run`` does before its loop, but the uplink stays down (the link is not
        started, as in SimWard.lose_uplink); the test drives health and traffic itself."""
        self.node = self.node_factory(self.config, self.outbox)
        assert self.sim is not None
        return self.sim


def passages(sim: SimNode, count: int) -> list[Passage]:
    decided = []
    for _ in range(count):
        passage = sim.person_arrives(36.4, sim.resident_pass())
        assert passage is not None, "the node stopped deciding"
        decided.append(passage)
    return decided


@pytest.mark.parametrize(
    "after_full",
    [pytest.param(20, id="short"), pytest.param(400, id="long", marks=LONG)],
)
def test_node_disk_full_keeps_deciding_counts_refusals_and_recovers(
    tmp_path: Path,
    influx: InfluxV1,
    mqtt_settings: MqttSettings,
    unique: str,
    ledger: Ledger,
    after_full: int,
) -> None:
    with (
        running_hub(mqtt_settings, influx, f"hub-{unique}", tmp_path / "hub"),
        small_filesystem(tmp_path / "disk", 4 * 1024 * 1024) as disk,
    ):
        fill(disk, leave_bytes=HEADROOM + 160 * 1024)  # a runaway log took the rest
        base = node_config(unique, 1, mqtt_settings)
        config = base.model_copy(
            update={
                "uplink": UplinkSettings(
                    outbox=OutboxSettings(
                        path=disk / "outbox.sqlite", disk_headroom_bytes=HEADROOM, burst=200
                    ),
                    link=LinkSettings(backoff_min_s=0.2, backoff_max_s=1.0),
                ),
                "health": HealthConfig(interval_s=3600, disk_path=str(disk)),
            }
        )
        node_id = config.node_id
        emitted: list[EventBase] = []
        service = RecordingService(config, emitted)
        try:
            sim = service.start()
            # Offline, the disk fills: people keep coming, health keeps being reported.
            decided: list[Passage] = []
            for _ in range(400):
                decided += passages(sim, 3)
                service.emit_health()
                if service.outbox.lost:
                    break
            assert "disk_full" in service.outbox.flags, "the disk never filled: test too small"
            for _ in range(after_full // 4):
                decided += passages(sim, 4)
                service.emit_health()
            # The node kept deciding and opening the barrier for residents all along (a
            # resident's pass shown twice within the dedup window is refused as no_pass:
            # the simulator's doing, not the disk's).
            admitted = [p for p in decided if p.decision is Decision.ADMIT]
            assert len(admitted) >= 0.9 * len(decided)
            assert all(p.barrier is not None and p.barrier.opened for p in admitted)
            sim.node.idle()
            # What the outbox holds now is what it accepted and kept; the rest it counted.
            held = {
                row.seq: decode_event(topics.event_topic(node_id, row.type), row.payload).id
                for row in service.outbox.after(-1, 10**6)
            }
            refused = service.outbox.lost
            given_way = dict(service.outbox.dropped)
            assert len(emitted) == len(held) + refused + sum(given_way.values()), (
                "an event went missing without being counted"
            )
            assert service.outbox.dropped_total == refused + sum(given_way.values())
            offline = len(emitted)
            accepted = list(held.values())

            # The uplink comes back: everything kept is delivered and confirmed by the hub,
            # the outbox empties, and new events are taken again (the file reuses the
            # confirmed events' pages).
            service.link.start()
            wait_for(lambda: service.outbox.held == 0, timeout_s=60, what="the drain")
            passages(sim, 10)
            service.emit_health()
            sim.node.idle()
            assert service.outbox.lost == refused, "refusing events after the drain"
            assert service.outbox.dropped == given_way
            assert "disk_full" not in service.outbox.flags
            accepted += [e.id for e in emitted[offline:]]
            wait_for(lambda: service.outbox.depth == 0, timeout_s=60, what="the last events")
            wait_for(
                lambda: set(stored_event_ids(influx, nodes=[node_id])) >= set(accepted),
                timeout_s=60,
                what="every accepted event stored",
            )
            wait_for(
                lambda: "disk_critical" in fired_alert_kinds(influx, ward=unique),
                timeout_s=30,
                what="the disk_critical alert",
            )
            flagged = influx.query(
                'SELECT "flags" FROM "health" WHERE "node" = $node', {"node": node_id}
            )
        finally:
            service.close()
    assert any("disk_full" in str(row["flags"]) for row in flagged), (
        "no health report with the disk_full flag reached the hub"
    )
    ledger.record(
        account(
            f"node disk full ({after_full} passages on a full disk)",
            accepted,
            stored_event_ids(influx, nodes=[node_id]),
            alerts_expected=["disk_critical"],
            alerts_fired=fired_alert_kinds(influx, ward=unique),
            emitted_total=len(emitted),
            refused_disk_full=refused,
            given_way=given_way,
        )
    )
