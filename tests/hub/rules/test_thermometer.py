"""Thermometer faults: out of range, stuck, reading ambient, drifting from the ward."""

from __future__ import annotations

from collections.abc import Callable

from edge.events import MemoryEmitter
from hub.rules.config import RulesConfig, WardThresholds
from tests.hub.rules.harness import Hub
from tests.hub.traffic import Clock, reading


def test_out_of_range_raises_and_clears_after_good_readings(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock
) -> None:
    em = node()
    hub.feed(reading(em, 36.5), reading(em, 12.0))  # aimed at a cold wall or broken
    [alert] = hub.active("thermometer_out_of_range")
    assert alert.node_id == "phucla-cp07-a"
    hub.feed(reading(em, 36.4), reading(em, 36.6))
    assert hub.active("thermometer_out_of_range")  # two good readings are not yet enough
    hub.feed(reading(em, 36.5))
    assert hub.active("thermometer_out_of_range") == []
    assert len(hub.resolved("thermometer_out_of_range")) == 1


def test_stuck_value_raises_and_clears_when_it_moves(
    hub: Hub, node: Callable[..., MemoryEmitter]
) -> None:
    em = node()
    hub.feed(*[reading(em, 36.61) for _ in range(7)])
    assert hub.active("thermometer_stuck") == []
    hub.feed(reading(em, 36.61))
    [alert] = hub.active("thermometer_stuck")
    assert alert.count == 1  # edge-triggered: more identical readings do not pile up
    hub.feed(reading(em, 36.61), reading(em, 36.2))
    assert hub.active("thermometer_stuck") == []


def test_reading_the_ambient_raises(hub: Hub, node: Callable[..., MemoryEmitter]) -> None:
    em = node()
    # A fouled lens: the "object" follows the 31 °C air instead of a forehead.
    hub.feed(*[reading(em, 31.0 + i * 0.05, ambient_c=30.8) for i in range(10)])
    [alert] = hub.active("thermometer_ambient_drift")
    assert alert.details["mean_delta_c"] < 1.0
    hub.feed(*[reading(em, 36.5 + i * 0.05, ambient_c=30.8) for i in range(10)])
    assert hub.active("thermometer_ambient_drift") == []


def test_drift_against_the_wards_other_nodes(hub: Hub, node: Callable[..., MemoryEmitter]) -> None:
    peers = [node(f"phucla-cp0{i}-a", f"phucla-cp0{i}") for i in (1, 2, 3)]
    drifting = node("phucla-cp09-a", "phucla-cp09")
    for i in range(10):
        hub.feed(*[reading(p, 36.4 + (i % 3) * 0.1) for p in peers])
        hub.feed(reading(drifting, 38.0 + (i % 3) * 0.1))  # reads 1.6 °C high
    [alert] = hub.active("thermometer_drift")
    assert alert.node_id == "phucla-cp09-a"
    # Recalibrated: back with the others.
    for i in range(10):
        hub.feed(reading(drifting, 36.5 + (i % 3) * 0.1))
    assert hub.active("thermometer_drift") == []


def test_thresholds_are_per_ward(
    make_hub: Callable[..., Hub], node: Callable[..., MemoryEmitter]
) -> None:
    rules = RulesConfig(wards={"hoangmai": WardThresholds(physiological_min_c=10.0)})
    hub = make_hub(rules)
    assert rules.for_ward("hoangmai").physiological_max_c == 43.0  # not overridden
    hub.feed(reading(node("hoangmai-cp01-a", "hoangmai-cp01"), 12.0))
    assert hub.active("thermometer_out_of_range") == []
    hub.feed(reading(node(), 12.0))  # phucla keeps the default 30 °C floor
    [alert] = hub.active("thermometer_out_of_range")
    assert alert.ward_id == "phucla"
