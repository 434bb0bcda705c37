"""The node as the runtime sees it: hub commands, health inputs, busy presence, close."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory

from checkpoint.contract.models import (
    BarrierAlarm,
    BarrierAlarmKind,
    Decision,
    Health,
    Reading,
    Reason,
)
from checkpoint.errors import ConfigError
from edge.events import MemoryEmitter
from edge.node import Node
from tests.edge.simnodes import MakeNode, emitted
from tests.helpers import wait_for


def test_remeasure_command_emits_a_reading(make_node: MakeNode) -> None:
    sim = make_node()
    sim.sensor.object_c = 36.7
    m = sim.node.remeasure(timeout_s=5)
    assert abs(m.object_c - 36.7) < 0.2
    [reading] = emitted(sim).events
    assert isinstance(reading, Reading)
    assert reading.object_c == m.object_c


def test_barrier_test_command_cycles_and_reports_a_jam(make_node: MakeNode) -> None:
    sim = make_node(barrier={"motion_timeout_s": 0.2})
    ok = sim.node.barrier_test(timeout_s=5)
    assert (ok.opened, ok.closed, ok.fault) == (True, True, None)
    sim.arm.jammed = True
    jammed = sim.node.barrier_test(timeout_s=5)
    assert (jammed.opened, jammed.fault) == (False, "open_failed")
    wait_for(
        lambda: any(
            isinstance(e, BarrierAlarm) and e.kind == BarrierAlarmKind.OPEN_FAILED
            for e in emitted(sim).events
        ),
        timeout_s=3,
        what="open_failed alarm",
    )
    assert "barrier_open_failed" in sim.node.health().flags


def test_health_takes_the_outbox_figures(make_node: MakeNode) -> None:
    sim = make_node(scanner={"pass_timeout_s": 0.2})
    sim.person_arrives(36.3, None)  # the camera is read for the whole pass timeout
    health = sim.node.health(outbox_depth=7, outbox_dropped=1)
    assert isinstance(health, Health)
    assert (health.outbox_depth, health.outbox_dropped) == (7, 1)
    assert health.config_version == sim.config.version
    assert health.camera_fps is not None
    assert health.camera_fps > 0


def test_presence_while_busy_starts_no_second_passage(make_node: MakeNode) -> None:
    sim = make_node(barrier={"open_s": 0.3})
    sim.person_arrives(36.3, sim.resident_pass(), wait=False)
    pin = sim.factory.pin(sim.config.pins.presence)
    for _ in range(5):  # the same person shuffling in front of the sensor
        pin.drive_high()
        pin.drive_low()
    sim.node.idle(timeout_s=10)
    assert sim.node.passages == 1


def test_forced_barrier_on_a_running_node(make_node: MakeNode) -> None:
    sim = make_node(barrier={"held_open_limit_s": 0.3})
    sim.arm.force_open()
    wait_for(lambda: "barrier_held_open" in sim.node.flags(), timeout_s=3, what="held open")
    kinds = [e.kind for e in emitted(sim).events if isinstance(e, BarrierAlarm)]
    assert kinds == [BarrierAlarmKind.FORCED_OPEN, BarrierAlarmKind.HELD_OPEN]


def test_a_new_zone_level_applies_to_the_next_passage(make_node: MakeNode) -> None:
    sim = make_node()
    code = sim.resident_pass()
    before = sim.person_arrives(36.3, code)
    sim.node.reconfigure(sim.config.model_copy(update={"zone_level": "red", "version": "v2"}))
    after = sim.person_arrives(36.3, sim.resident_pass())
    assert before is not None
    assert after is not None
    assert (before.decision, before.zone_level) == (Decision.ADMIT, "green")
    assert (after.reason, after.zone_level) == (Reason.LEVEL_NOT_ALLOWED, "red")
    assert sim.node.health().config_version == "v2"


def test_rewiring_is_refused_and_the_old_config_stays(make_node: MakeNode) -> None:
    sim = make_node()
    old = sim.node.config
    rewired = old.model_copy(
        update={"pins": old.pins.model_copy(update={"buzzer": 16}), "zone_level": "red"}
    )
    with pytest.raises(ConfigError, match="pins"):
        sim.node.reconfigure(rewired)
    assert sim.node.config is old
    passage = sim.person_arrives(36.3, sim.resident_pass())
    assert passage is not None
    assert passage.decision == Decision.ADMIT


def test_a_node_without_an_i2c_bus_runs_and_refuses_with_a_flag(
    make_node: MakeNode, factory: MockFactory, emitter: MemoryEmitter
) -> None:
    sim = make_node()
    cfg = sim.config.model_copy(
        update={
            "node_id": "nobus-n1",
            "thermometer": sim.config.thermometer.model_copy(update={"i2c_bus": 99}),
            "camera": sim.config.camera.model_copy(update={"enabled": True}),
            "scanner": sim.config.scanner.model_copy(update={"pass_timeout_s": 0.1}),
        }
    )
    # Off a Pi: no /dev/i2c-99 and no picamera2. The node must still come up and decide.
    node = Node(cfg, emitter, pin_factory=factory)
    try:
        factory.pin(cfg.pins.barrier_closed).drive_high()
        factory.pin(cfg.pins.presence).drive_high()
        node.idle()
        assert node.last_passage is not None
        assert node.last_passage.reason == Reason.THERMOMETER_FAULT
        flags = node.health().flags
        assert "thermometer_fault" in flags
        assert "camera_fault" in flags
    finally:
        node.close()
