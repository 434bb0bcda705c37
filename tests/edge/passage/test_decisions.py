"""The passage state machine, one test per reason, on the real node code.

Outcomes asserted: the Passage event (decision, reason, temperature, pass, barrier), the
barrier relay, and the volunteer's lights and buzzer as MockPin.states recorded them.
"""

from __future__ import annotations

from checkpoint.contract.models import Decision, Passage, Reading, Reason
from edge.passcheck_allowlist import pass_text
from tests.edge.simnodes import MakeNode, emitted, states

OFF_ON_OFF = [False, True, False]


def beeps(n: int) -> list[bool]:
    return [False] + [True, False] * n


def test_admit_opens_the_barrier_with_green_and_one_beep(make_node: MakeNode) -> None:
    sim = make_node()
    pins = sim.config.pins
    passage = sim.person_arrives(36.4, sim.resident_pass())
    assert passage is not None
    assert (passage.decision, passage.reason, passage.direction) == (
        Decision.ADMIT,
        Reason.OK,
        "in",
    )
    assert passage.temperature is not None
    assert passage.temperature.fever is False
    assert passage.temperature.second_c is None  # a normal first reading is not re-measured
    assert passage.pass_check is not None
    assert passage.pass_check.category == "resident"
    assert passage.barrier is not None
    assert (passage.barrier.opened, passage.barrier.closed, passage.barrier.fault) == (
        True,
        True,
        None,
    )
    assert states(sim, pins.barrier_relay) == OFF_ON_OFF
    assert states(sim, pins.green_light) == OFF_ON_OFF
    assert states(sim, pins.red_light) == [False]
    assert states(sim, pins.buzzer) == beeps(1)
    # One Passage ties it together, after the Reading it was decided on.
    kinds = [type(e) for e in emitted(sim).events]
    assert kinds == [Reading, Passage]


def test_fever_confirmed_on_remeasure_is_refused(make_node: MakeNode) -> None:
    sim = make_node()
    pins = sim.config.pins
    passage = sim.person_arrives(38.6, sim.resident_pass())
    assert passage is not None
    assert (passage.decision, passage.reason) == (Decision.REFUSE, Reason.FEVER)
    t = passage.temperature
    assert t is not None
    assert t.first_c is not None
    assert t.second_c is not None
    assert t.first_c >= 38.4
    assert t.second_c >= 38.4
    assert t.fever is True
    assert passage.barrier is None
    assert passage.pass_check is None  # refused before the pass was asked for
    assert states(sim, pins.barrier_relay) == [False]
    assert states(sim, pins.red_light) == OFF_ON_OFF
    assert states(sim, pins.green_light) == [False]
    assert states(sim, pins.buzzer) == beeps(3)
    assert [type(e) for e in emitted(sim).events] == [Reading, Reading, Passage]


def test_high_first_reading_not_confirmed_is_admitted(make_node: MakeNode) -> None:
    sim = make_node()
    # Hot from the sun: while the node waits to re-measure, the forehead cools down.
    sim.node.thermometry.sleep = lambda _s: setattr(sim.sensor, "object_c", 36.5)
    passage = sim.person_arrives(37.9, sim.resident_pass())
    assert passage is not None
    assert (passage.decision, passage.reason) == (Decision.ADMIT, Reason.OK)
    t = passage.temperature
    assert t is not None
    assert t.first_c is not None
    assert t.second_c is not None
    assert t.first_c >= 37.5
    assert t.second_c < 37.0
    assert t.fever is False
    assert states(sim, sim.config.pins.barrier_relay) == OFF_ON_OFF


def test_no_pass_is_refused(make_node: MakeNode) -> None:
    sim = make_node(scanner={"pass_timeout_s": 0.2})
    passage = sim.person_arrives(36.3, None)
    assert passage is not None
    assert (passage.decision, passage.reason) == (Decision.REFUSE, Reason.NO_PASS)
    assert passage.pass_check is not None
    assert passage.pass_check.valid is False
    assert states(sim, sim.config.pins.buzzer) == beeps(1)
    assert states(sim, sim.config.pins.red_light) == OFF_ON_OFF
    assert states(sim, sim.config.pins.barrier_relay) == [False]


def test_a_qr_that_is_not_a_pass_is_refused(make_node: MakeNode) -> None:
    sim = make_node()
    passage = sim.person_arrives(36.3, "https://example.com/menu")
    assert passage is not None
    assert passage.reason == Reason.PASS_NOT_A_PASS
    assert states(sim, sim.config.pins.buzzer) == beeps(2)
    assert states(sim, sim.config.pins.barrier_relay) == [False]


def test_an_unknown_pass_is_refused(make_node: MakeNode) -> None:
    sim = make_node()
    passage = sim.person_arrives(36.3, pass_text("stranger-0042"))
    assert passage is not None
    assert passage.reason == Reason.PASS_NOT_HERE
    assert passage.pass_check is not None
    assert passage.pass_check.pass_id == "stranger-0042"


def test_a_category_not_allowed_at_the_zone_level_is_refused(make_node: MakeNode) -> None:
    sim = make_node(zone_level="red")
    resident = sim.person_arrives(36.3, sim.resident_pass())
    medic = next(p for p, c in sim.passes.items() if c == "medical")
    medical = sim.person_arrives(36.3, pass_text(medic))
    assert resident is not None
    assert medical is not None
    assert (resident.decision, resident.reason) == (Decision.REFUSE, Reason.LEVEL_NOT_ALLOWED)
    assert resident.zone_level == "red"
    assert (medical.decision, medical.reason) == (Decision.ADMIT, Reason.OK)


def test_an_unreadable_qr_is_refused_with_its_reason(make_node: MakeNode) -> None:
    sim = make_node()
    passage = sim.person_arrives(36.3, sim.resident_pass(), damaged=True)
    assert passage is not None
    assert (passage.decision, passage.reason) == (Decision.REFUSE, Reason.PASS_UNREADABLE)
    assert sim.node.sensor_errors()["qr_unreadable"] == 1
    assert states(sim, sim.config.pins.buzzer) == beeps(2)
    # The node goes on: the next person with a good pass is admitted.
    after = sim.person_arrives(36.3, sim.resident_pass())
    assert after is not None
    assert after.decision == Decision.ADMIT


def test_garbled_wedge_input_is_refused_unreadable(make_node: MakeNode) -> None:
    sim = make_node()
    passage = sim.person_arrives(36.3, "GZA:\x1b[2~abc", via="wedge")
    assert passage is not None
    assert passage.reason == Reason.PASS_UNREADABLE


def test_a_wedge_scan_is_a_pass_like_the_camera(make_node: MakeNode) -> None:
    sim = make_node()
    passage = sim.person_arrives(36.3, sim.resident_pass(), via="wedge", direction="out")
    assert passage is not None
    assert (passage.decision, passage.direction) == (Decision.ADMIT, "out")


def test_the_same_code_twice_within_the_window_counts_once(make_node: MakeNode) -> None:
    sim = make_node(scanner={"dedup_window_s": 5.0, "pass_timeout_s": 0.3})
    code = sim.resident_pass()
    first = sim.person_arrives(36.3, code, via="wedge")
    # The scanner "types" the same pass again at once (a double trigger), then someone
    # else tries the same pass on the camera: neither counts as a new pass.
    second = sim.person_arrives(36.3, code, via="wedge")
    third = sim.person_arrives(36.3, code, via="camera")
    assert first is not None
    assert second is not None
    assert third is not None
    assert first.decision == Decision.ADMIT
    assert (second.reason, third.reason) == (Reason.NO_PASS, Reason.NO_PASS)
    assert sim.node.sensor_errors()["duplicates"] >= 2
    different = next(pass_text(p) for p, c in sim.passes.items() if pass_text(p) != code)
    other = sim.person_arrives(36.3, different)  # a different pass still works at once
    assert other is not None
    assert other.decision == Decision.ADMIT
