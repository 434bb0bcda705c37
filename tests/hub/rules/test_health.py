"""Node health: clock skew, outbox backlog growing, CPU temperature and disk critical."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from edge.events import MemoryEmitter
from tests.hub.rules.harness import Hub
from tests.hub.traffic import Clock, health


def test_clock_skew(hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock) -> None:
    em = node()
    hub_clock = em.clock
    em.clock = lambda: hub_clock() + timedelta(minutes=7)  # RTC-less Pi, bad NTP
    hub.feed(health(em))
    [alert] = hub.active("clock_skew")
    assert alert.details["skew_s"] == 420
    em.clock = hub_clock
    hub.feed(health(em))
    assert hub.active("clock_skew") == []
    # A late clock with events still queued is an outbox replay, not skew.
    em.clock = lambda: hub_clock() - timedelta(hours=2)
    hub.feed(health(em, outbox_depth=500))
    assert hub.active("clock_skew") == []
    hub.feed(health(em, outbox_depth=0))
    assert hub.active("clock_skew")


def test_outbox_backlog_growing(hub: Hub, node: Callable[..., MemoryEmitter]) -> None:
    em = node()
    hub.feed(health(em, outbox_depth=150), health(em, outbox_depth=150))
    hub.feed(health(em, outbox_depth=160))
    assert hub.active("outbox_backlog") == []  # not rising three reports in a row
    hub.feed(health(em, outbox_depth=400), health(em, outbox_depth=900))
    [alert] = hub.active("outbox_backlog")
    assert alert.details["trend"] == [150, 160, 400]  # raised on the third rise
    hub.feed(health(em, outbox_depth=20))
    assert hub.active("outbox_backlog") == []


def test_cpu_temperature_critical_with_hysteresis(
    hub: Hub, node: Callable[..., MemoryEmitter]
) -> None:
    em = node()
    hub.feed(health(em, cpu_temp_c=84.0))
    assert hub.active("cpu_temp_critical")[0].severity == "critical"
    hub.feed(health(em, cpu_temp_c=77.0))  # within the 5 °C hysteresis: still hot
    assert hub.active("cpu_temp_critical")
    hub.feed(health(em, cpu_temp_c=70.0))
    assert hub.active("cpu_temp_critical") == []


def test_disk_critical(hub: Hub, node: Callable[..., MemoryEmitter]) -> None:
    em = node()
    hub.feed(health(em, disk_free_bytes=50_000_000))
    assert hub.active("disk_critical")
    hub.feed(health(em, disk_free_bytes=4_000_000_000))
    assert hub.active("disk_critical") == []
    hub.feed(health(em, flags=["disk_full"]))
    assert hub.active("disk_critical")


def test_reports_that_waited_at_the_broker_are_not_a_late_clock(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock
) -> None:
    """The hub away or behind (InfluxDB down, a share-group member dead): the node sent
    its reports on time with an empty outbox, the broker queued them, and they reach the
    hub minutes late, all at once. Found by tests/reliability/test_influx_down.py."""
    em = node()
    hub.feed(health(em))  # on time
    queued = []
    for _ in range(5):  # five minutes of reports, one a minute, held at the broker
        clock.advance(60)
        queued.append(health(em))
    clock.advance(1)
    for report in queued:  # the backlog drains: each report judged on its own arrival
        hub.feed(report)
    # Not even raised and then resolved by the last, on-time report.
    assert hub.active("clock_skew") == []
    assert hub.resolved("clock_skew") == []


def test_late_clock_is_raised_when_reports_keep_arriving_late_at_their_pace(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock
) -> None:
    em = node()
    em.clock = lambda: clock() - timedelta(minutes=7)
    hub.feed(health(em))
    assert hub.active("clock_skew") == []  # one late report could have waited somewhere
    clock.advance(60)
    hub.feed(health(em))  # ... a minute later, still 7 minutes behind: the clock
    [alert] = hub.active("clock_skew")
    assert alert.details["skew_s"] == -420


def test_a_backlog_drained_at_nearly_its_pace_is_not_a_late_clock(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock
) -> None:
    """InfluxDB was down for minutes; reports made a second apart wait at the broker and
    arrive, once it is back, 0.6 s apart while the hub drains its full window: late, and
    at more than half their pace. Only the hub knows it is draining. Found by
    tests/reliability/test_influx_down.py[long]."""
    em = node()
    hub.feed(health(em))  # on time
    queued = []
    for _ in range(5):
        clock.advance(1)
        queued.append(health(em))
    clock.advance(100)
    for report in queued:
        hub.intake_full_at = clock()  # each arrival finds the window full
        hub.feed(report)
        clock.advance(0.6)
    assert hub.active("clock_skew") == []
    assert hub.resolved("clock_skew") == []

    # The backlog is gone; a node whose clock is really late is judged again.
    clock.advance(15)
    late = node("phucla-cp07-b")
    late.clock = lambda: clock() - timedelta(minutes=7)
    hub.feed(health(late))
    clock.advance(60)
    hub.feed(health(late))
    [alert] = hub.active("clock_skew")
    assert alert.node_id == "phucla-cp07-b"
