"""Traffic off the checkpoint's usual level for the hour: learned per hour of day, kept
across restarts, judged when the hour closes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from edge.events import MemoryEmitter
from tests.hub.rules.harness import Hub
from tests.hub.traffic import Clock, passage

START = Clock().now.replace(hour=2)  # 09:00 in Ha Noi on the first day


def morning(hub: Hub, em: MemoryEmitter, clock: Clock, day: int, people: int) -> None:
    """``people`` passages between 09:00 and 10:00 Ha Noi time on ``day``, then 10:00:05."""
    start = START + timedelta(days=day)
    for i in range(people):
        clock.now = start + timedelta(seconds=i * 3500 / people)
        hub.feed(passage(em, pass_id=f"p-{day}-{i}"))
    clock.now = start + timedelta(hours=1, seconds=5)
    hub.tick()


def test_a_rush_far_above_the_usual_hour_raises_then_clears(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock
) -> None:
    em = node()
    for day in range(3):
        morning(hub, em, clock, day, 20)
    assert hub.active("traffic_anomaly") == []  # three days of learning, all usual
    hub = hub.restart()  # what was learned is in the state store
    morning(hub, em, clock, 3, 100)
    [alert] = hub.active("traffic_anomaly")
    assert alert.details["count"] == 100
    assert alert.details["hour"] == 9
    assert 19 < alert.details["usual"] < 21
    morning(hub, em, clock, 4, 22)
    assert hub.active("traffic_anomaly") == []


def test_an_hour_gone_silent_raises(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock
) -> None:
    em = node()
    for day in range(3):
        morning(hub, em, clock, day, 30)
    morning(hub, em, clock, 3, 0)  # the node is up but nobody passes: barrier blocked?
    [alert] = hub.active("traffic_anomaly")
    assert alert.details["count"] == 0


def test_a_new_checkpoint_is_not_judged(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock
) -> None:
    em = node()
    morning(hub, em, clock, 0, 5)
    morning(hub, em, clock, 1, 200)
    assert hub.active("traffic_anomaly") == []
