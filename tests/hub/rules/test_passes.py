"""Refusals in a burst at one checkpoint; one pass at two checkpoints too fast (cloned QR)."""

from __future__ import annotations

from collections.abc import Callable

from checkpoint.contract.models import Reason
from edge.events import MemoryEmitter
from tests.hub.rules.harness import Hub
from tests.hub.traffic import Clock, passage


def test_refused_burst_raises_then_clears_when_quiet(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock
) -> None:
    em = node()
    for i in range(4):
        clock.advance(10)
        hub.feed(passage(em, refuse=Reason.PASS_EXPIRED, pass_id=f"p-{i}"))
    assert hub.active("refused_burst") == []
    clock.advance(10)
    hub.feed(passage(em, refuse=Reason.PASS_BAD_SIGNATURE, pass_id="p-9"))
    [alert] = hub.active("refused_burst")
    assert alert.details["refusals"] == 5
    assert alert.checkpoint_id == "phucla-cp07"
    assert alert.node_id is None
    clock.advance(61)
    hub.tick()
    assert hub.active("refused_burst") == []


def test_refusals_spread_out_are_not_a_burst(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock
) -> None:
    em = node()
    for i in range(10):
        clock.advance(30)
        hub.feed(passage(em, refuse=Reason.PASS_EXPIRED, pass_id=f"p-{i}"))
    assert hub.active("refused_burst") == []


def test_same_pass_at_two_checkpoints_too_fast_is_a_clone(
    hub: Hub, node: Callable[..., MemoryEmitter], clock: Clock
) -> None:
    east = node("phucla-cp01-a", "phucla-cp01")
    west = node("phucla-cp12-a", "phucla-cp12")
    hub.feed(passage(east, pass_id="gdd-7f3a"))
    clock.advance(600)  # ten minutes later at the other end of the ward: plausible
    hub.feed(passage(west, pass_id="gdd-7f3a"))
    assert hub.active("cloned_pass") == []
    clock.advance(40)  # and forty seconds after that, back at the first checkpoint
    hub.feed(passage(east, pass_id="gdd-7f3a"))
    [alert] = hub.active("cloned_pass")
    assert alert.details["pass_id"] == "gdd-7f3a"
    assert alert.details["first_checkpoint_id"] == "phucla-cp12"
    assert alert.checkpoint_id == "phucla-cp01"
    clock.advance(3601)
    hub.tick()
    assert hub.active("cloned_pass") == []
