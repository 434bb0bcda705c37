"""Barrier supervision from limit-switch pin changes on gpiozero's MockFactory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory

from checkpoint.contract.models import BarrierAlarm, BarrierAlarmKind
from checkpoint.contract.node.config import BarrierConfig, PinsConfig
from edge.barrier.supervisor import BarrierSupervisor
from edge.events import MemoryEmitter
from edge.hardware.barrier_emulated import EmulatedBarrier
from edge.hardware.devices import Devices
from tests.helpers import wait_for

K = BarrierAlarmKind
FAST = BarrierConfig(
    open_s=0.0,
    motion_timeout_s=0.15,
    held_open_limit_s=0.3,
    chatter_changes=6,
    chatter_window_s=0.5,
)


class Rig:
    def __init__(self, factory: MockFactory, emitter: MemoryEmitter, cfg: BarrierConfig) -> None:
        pins = PinsConfig()
        self.arm = EmulatedBarrier(factory, pins)
        self.devices = Devices.build(pins, cfg, factory)
        self.arm.settle()
        self.emitter = emitter
        self.supervisor = BarrierSupervisor(
            self.devices.closed_switch, self.devices.open_switch, self.devices.relay, cfg, emitter
        )

    def alarms(self) -> list[tuple[K, str]]:
        return [(e.kind, e.detail) for e in self.emitter.events if isinstance(e, BarrierAlarm)]

    def kinds(self) -> list[K]:
        return [k for k, _ in self.alarms()]

    def close(self) -> None:
        self.supervisor.close()
        self.devices.close()
        self.arm.close()


@pytest.fixture
def rig(factory: MockFactory, emitter: MemoryEmitter) -> Iterator[Rig]:
    made = Rig(factory, emitter, FAST)
    yield made
    made.close()


def test_a_commanded_cycle_raises_nothing(rig: Rig) -> None:
    motion = rig.supervisor.cycle(open_s=0.0)
    assert (motion.opened, motion.closed, motion.fault) == (True, True, None)
    rig.supervisor.evaluate()
    assert rig.alarms() == []
    assert rig.arm.relay_pin.states[-1].state is False


def test_forced_open_is_raised_and_cleared(rig: Rig) -> None:
    rig.arm.force_open()
    wait_for(lambda: K.FORCED_OPEN in rig.kinds(), timeout_s=2, what="forced_open")
    rig.arm.push_down()
    wait_for(lambda: K.CLEARED in rig.kinds(), timeout_s=2, what="cleared")
    assert rig.alarms() == [
        (K.FORCED_OPEN, "arm left the closed limit uncommanded"),
        (K.CLEARED, "forced_open"),
    ]
    assert rig.supervisor.active == set()


def test_held_open_after_the_limit(rig: Rig) -> None:
    rig.arm.force_open()
    wait_for(lambda: K.HELD_OPEN in rig.kinds(), timeout_s=2, what="held_open")
    [held] = [
        e for e in rig.emitter.events if isinstance(e, BarrierAlarm) and e.kind == K.HELD_OPEN
    ]
    forced = rig.emitter.events[0]
    assert (held.ts - forced.ts).total_seconds() >= 0.25  # not before the limit
    rig.arm.push_down()
    wait_for(lambda: rig.kinds().count(K.CLEARED) == 2, timeout_s=2, what="both cleared")
    assert sorted(d for k, d in rig.alarms() if k == K.CLEARED) == ["forced_open", "held_open"]


def test_a_jammed_motor_is_an_open_fault(rig: Rig) -> None:
    rig.arm.jammed = True
    motion = rig.supervisor.cycle(open_s=0.0)
    assert (motion.opened, motion.fault) == (False, "open_failed")
    wait_for(lambda: K.OPEN_FAILED in rig.kinds(), timeout_s=2, what="open_failed")
    assert K.FORCED_OPEN not in rig.kinds()
    assert rig.supervisor.active == {K.OPEN_FAILED}  # the fault stays until a motion works
    rig.arm.jammed = False
    assert rig.supervisor.cycle(open_s=0.0).fault is None
    wait_for(lambda: (K.CLEARED, "open_failed") in rig.alarms(), timeout_s=2, what="cleared")
    assert rig.kinds().count(K.OPEN_FAILED) == 1


def test_an_arm_that_does_not_come_down_is_a_close_fault(rig: Rig) -> None:
    rig.supervisor.command(True)
    rig.arm.jammed = True
    rig.supervisor.command(False)
    wait_for(lambda: K.CLOSE_FAILED in rig.kinds(), timeout_s=2, what="close_failed")
    rig.arm.push_down()
    wait_for(lambda: (K.CLEARED, "close_failed") in rig.alarms(), timeout_s=2, what="cleared")


def test_switch_chatter(rig: Rig) -> None:
    # A worn closed switch bouncing while the arm stays down.
    for _ in range(4):
        rig.arm.closed_pin.drive_low()
        rig.arm.closed_pin.drive_high()
    wait_for(lambda: K.CHATTER in rig.kinds(), timeout_s=2, what="chatter")
    wait_for(lambda: (K.CLEARED, "chatter") in rig.alarms(), timeout_s=3, what="quiet again")


def test_a_slow_motor_within_the_timeout_is_no_fault(
    factory: MockFactory, emitter: MemoryEmitter
) -> None:
    made = Rig(factory, emitter, FAST.model_copy(update={"motion_timeout_s": 1.0}))
    made.arm.travel_s = 0.1
    try:
        motion = made.supervisor.cycle(open_s=0.0)
        assert motion.opened
        assert motion.closed
        assert motion.open_s is not None
        assert motion.open_s >= 0.09
        made.supervisor.evaluate()
        assert made.alarms() == []
    finally:
        made.close()


def test_real_timings_with_an_injected_clock(factory: MockFactory, emitter: MemoryEmitter) -> None:
    """The shipped 30 s held-open limit, judged without waiting 30 s."""
    now = [1000.0]
    pins = PinsConfig()
    arm = EmulatedBarrier(factory, pins)
    devices = Devices.build(pins, BarrierConfig(), factory)
    arm.settle()
    supervisor = BarrierSupervisor(
        devices.closed_switch,
        devices.open_switch,
        devices.relay,
        BarrierConfig(),
        emitter,
        clock=lambda: now[0],
    )
    try:
        arm.force_open()
        supervisor.evaluate()
        now[0] += 29.0
        supervisor.evaluate()
        assert supervisor.active == {K.FORCED_OPEN}
        now[0] += 1.5
        supervisor.evaluate()
        assert supervisor.active == {K.FORCED_OPEN, K.HELD_OPEN}
        now[0] += 10.0
        arm.push_down()
        supervisor.evaluate()
        cleared = {
            e.detail: e.duration_s
            for e in emitter.events
            if isinstance(e, BarrierAlarm) and e.kind == K.CLEARED
        }
        assert cleared == {"forced_open": 40.5, "held_open": 10.0}
    finally:
        supervisor.close()
        devices.close()
        arm.close()
