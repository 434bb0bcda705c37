"""Node faults the node reports as health flags: each raises its alert and clears it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from checkpoint.contract import encode, topics
from edge.events import MemoryEmitter
from hub.config import HubConfig
from hub.rules.faults import FAULTS
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher
from tests.hub.rules.harness import Hub
from tests.hub.traffic import Clock, health


@pytest.mark.parametrize("flag", sorted(FAULTS))
def test_each_fault_flag_raises_and_clears_its_alert(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock, flag: str
) -> None:
    em = node()
    hub.feed(health(em))
    assert hub.active() == []
    clock.advance(60)
    hub.feed(health(em, flags=sorted({flag, "disk_low"})))
    [alert] = hub.active()
    assert (alert.kind, alert.node_id, alert.checkpoint_id) == (
        FAULTS[flag].kind,
        "phucla-cp07-a",
        "phucla-cp07",
    )
    assert alert.severity == FAULTS[flag].severity
    clock.advance(60)
    hub.feed(health(em, flags=[flag]))  # still there: one alert, one episode
    [same] = hub.active()
    assert (same.id, same.count) == (alert.id, 1)
    clock.advance(60)
    hub.feed(health(em))
    assert hub.active() == []
    [resolved] = hub.resolved(FAULTS[flag].kind)
    assert resolved.id == alert.id


def test_faults_are_per_node_and_a_late_old_report_changes_nothing(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock
) -> None:
    a, b = node("phucla-cp07-a"), node("phucla-cp08-a", "phucla-cp08")
    hub.feed(health(a, flags=["camera_fault", "trust_stale"]), health(b, flags=["trust_stale"]))
    assert sorted((x.node_id, x.kind) for x in hub.active()) == [
        ("phucla-cp07-a", "camera_fault"),
        ("phucla-cp07-a", "trust_stale"),
        ("phucla-cp08-a", "trust_stale"),
    ]
    old = health(a, flags=[])
    clock.advance(30)
    hub.feed(health(a, flags=["camera_fault"]))  # trust lists fresh again at cp07
    hub.feed(old)  # made before it, delivered after it: not news
    assert sorted((x.node_id, x.kind) for x in hub.active()) == [
        ("phucla-cp07-a", "camera_fault"),
        ("phucla-cp08-a", "trust_stale"),
    ]


def test_a_node_fault_through_the_broker_and_hub_service(
    hub_config: HubConfig, raw_publisher: RawPublisher, unique: str
) -> None:
    """Health reports published to the real broker, stored and judged by a running hub."""
    em = MemoryEmitter(f"{unique}-cp01-a", f"{unique}-cp01", "phucla")
    service = HubService(hub_config)
    service.start()
    try:
        assert service.alerting is not None
        store = service.alerting.store

        def active() -> list[str]:
            return sorted(a.kind for a in store.find(active=True, ward_id="phucla"))

        def send(flags: list[str]) -> None:
            event = health(em, flags=flags)
            raw_publisher.publish([(topics.event_topic(em.node_id, "health"), encode(event))])

        send(["config_refused", "thermometer_fault"])
        wait_for(lambda: active() == ["config_refused", "thermometer_fault"], what="raised")
        send(["thermometer_fault"])
        wait_for(lambda: active() == ["thermometer_fault"], what="config_refused cleared")
        send([])
        wait_for(lambda: active() == [], what="thermometer_fault cleared")
        resolved = store.find(active=False, ward_id="phucla")
        assert sorted(a.kind for a in resolved) == ["config_refused", "thermometer_fault"]
    finally:
        service.stop()
