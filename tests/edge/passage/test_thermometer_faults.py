"""Thermometer faults refuse with thermometer_fault, raise a health flag, never crash."""

from __future__ import annotations

from checkpoint.contract.models import Decision, Reason
from edge.hardware.mlx90614 import celsius_to_raw
from tests.edge.simnodes import MakeNode, states


def test_bus_error_refuses_flags_and_recovers(make_node: MakeNode) -> None:
    sim = make_node()
    sim.sensor.faults.bus_errors = 1000  # a loose SDA wire: every transaction NACKs
    passage = sim.person_arrives(36.4, sim.resident_pass())
    assert passage is not None
    assert (passage.decision, passage.reason) == (Decision.REFUSE, Reason.THERMOMETER_FAULT)
    assert passage.temperature is not None
    assert passage.temperature.first_c is None
    assert states(sim, sim.config.pins.buzzer) == [False] + [True, False] * 4
    health = sim.node.health()
    assert "thermometer_fault" in health.flags
    assert health.sensor_errors["thermometer_bus"] >= 1
    sim.sensor.faults.bus_errors = 0  # wire pushed back in
    again = sim.person_arrives(36.4, sim.resident_pass())
    assert again is not None
    assert again.decision == Decision.ADMIT
    assert "thermometer_fault" not in sim.node.health().flags


def test_bad_pec_is_a_thermometer_fault(make_node: MakeNode) -> None:
    sim = make_node()
    sim.sensor.faults.bad_pec = 1000
    passage = sim.person_arrives(36.4, sim.resident_pass())
    assert passage is not None
    assert passage.reason == Reason.THERMOMETER_FAULT
    health = sim.node.health()
    assert "thermometer_fault" in health.flags
    assert health.sensor_errors["thermometer_pec"] >= 1


def test_a_stuck_sensor_is_caught(make_node: MakeNode) -> None:
    sim = make_node(thermometer={"stuck_measurements": 2})
    sim.sensor.faults.stuck_raw = celsius_to_raw(36.2)
    first = sim.person_arrives(36.9, sim.resident_pass())
    second = sim.person_arrives(37.1, sim.resident_pass())
    assert first is not None
    assert second is not None
    # The first stuck measurement cannot be told from a steady person; the second can.
    assert second.reason == Reason.THERMOMETER_FAULT
    health = sim.node.health()
    assert "thermometer_fault" in health.flags
    assert health.sensor_errors["thermometer_stuck"] == 1


def test_a_fault_during_the_remeasure_refuses_without_fever(make_node: MakeNode) -> None:
    sim = make_node()

    def wire_breaks(_s: float) -> None:
        sim.sensor.faults.bus_errors = 1000

    sim.node.thermometry.sleep = wire_breaks
    passage = sim.person_arrives(38.2, sim.resident_pass())
    assert passage is not None
    assert passage.reason == Reason.THERMOMETER_FAULT
    assert passage.temperature is not None
    assert passage.temperature.first_c is not None
    assert passage.temperature.fever is False  # unconfirmed: not recorded as a fever


def test_an_implausible_value_is_a_fault(make_node: MakeNode) -> None:
    sim = make_node()
    passage = sim.person_arrives(85.0, sim.resident_pass())  # a hot lamp, not a person
    assert passage is not None
    assert passage.reason == Reason.THERMOMETER_FAULT
    assert sim.node.sensor_errors()["thermometer_implausible"] >= 1
