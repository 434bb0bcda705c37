"""Barrier alarms, node offline (last will, missed heartbeats) and back online."""

from __future__ import annotations

from collections.abc import Callable

from checkpoint.contract import BarrierAlarm, NodeStatus
from checkpoint.contract.models import BarrierAlarmKind
from edge.events import MemoryEmitter
from tests.hub.rules.harness import Hub
from tests.hub.traffic import Clock, health, passage


def test_barrier_alarms_raise_and_cleared_resolves(
    hub: Hub, node: Callable[..., MemoryEmitter]
) -> None:
    em = node()
    hub.feed(em.emit(BarrierAlarm, kind=BarrierAlarmKind.FORCED_OPEN, detail="no command"))
    hub.feed(em.emit(BarrierAlarm, kind=BarrierAlarmKind.HELD_OPEN, duration_s=95.0))
    hub.feed(em.emit(BarrierAlarm, kind=BarrierAlarmKind.CLOSE_FAILED))
    assert hub.active("barrier_forced_open")[0].severity == "critical"
    assert hub.active("barrier_held_open")[0].details["duration_s"] == 95.0
    assert hub.active("barrier_fault")[0].details["alarm"] == "close_failed"
    hub.feed(em.emit(BarrierAlarm, kind=BarrierAlarmKind.CLEARED))
    assert hub.active() == []


def test_barrier_fault_reported_in_a_passage(hub: Hub, node: Callable[..., MemoryEmitter]) -> None:
    hub.feed(passage(node(), barrier_fault="open limit switch not reached"))
    [alert] = hub.active("barrier_fault")
    assert "limit switch" in alert.summary


def test_last_will_raises_offline_and_online_resolves(
    hub: Hub, node: Callable[..., MemoryEmitter]
) -> None:
    em = node()
    hub.feed(health(em))
    hub.derivation.derive([], [NodeStatus(node_id=em.node_id, state="offline")])
    [alert] = hub.active("node_offline")
    assert alert.details["reason"] == "last_will"
    assert alert.checkpoint_id == "phucla-cp07"
    hub.derivation.derive([], [NodeStatus(node_id=em.node_id, state="online")])
    assert hub.active("node_offline") == []


def test_status_of_a_never_seen_node_is_ignored(hub: Hub) -> None:
    hub.derivation.derive([], [NodeStatus(node_id="stranger-01", state="offline")])
    assert hub.active() == []


def test_missed_heartbeats_raise_and_a_heartbeat_resolves_even_after_restart(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock
) -> None:
    em = node()
    hub.feed(health(em))
    clock.advance(179)
    hub.tick()
    assert hub.active("node_offline") == []
    # The hub restarts while the node is silent: the registry was persisted.
    hub = hub.restart()
    clock.advance(2)
    hub.tick()
    [alert] = hub.active("node_offline")
    assert alert.details["reason"] == "heartbeats_missed"
    hub.tick()
    assert hub.active("node_offline")[0].count == 1
    clock.advance(30)
    hub.feed(health(em))
    assert hub.active("node_offline") == []
