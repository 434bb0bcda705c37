"""Fever: confirmed by the second measurement; one alert per checkpoint; resolves later."""

from __future__ import annotations

from collections.abc import Callable

from edge.events import MemoryEmitter
from tests.hub.rules.harness import Hub
from tests.hub.traffic import Clock, passage


def test_confirmed_fever_raises_and_a_single_high_reading_does_not(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock
) -> None:
    em = node()
    hub.feed(passage(em, temp=(37.9, 37.1)))  # re-measured normal: not a fever
    assert hub.active("fever") == []
    first = passage(em, temp=(38.4, 38.6))
    hub.feed(first)
    [alert] = hub.active("fever")
    assert alert.severity == "critical"
    assert alert.checkpoint_id == "phucla-cp07"
    assert alert.details["second_c"] == 38.6
    hub.feed(first)  # redelivered: not a second occurrence
    clock.advance(60)
    hub.feed(passage(em, temp=(38.0, 38.2)))
    [alert] = hub.active("fever")
    assert alert.count == 2
    # No new fever for fever_resolve_after_s (1800 s): resolves itself.
    clock.advance(1799)
    hub.tick()
    assert hub.active("fever")
    clock.advance(2)
    hub.tick()
    assert hub.active("fever") == []
    assert [a.count for a in hub.resolved("fever")] == [2]
