"""The per-node token bucket: each node has its own budget, refilled as the node's own
clock (its events' ts) advances, not as the hub happens to read them."""

from __future__ import annotations

from hub.ingest.admission import NodeAdmission

T = 1_700_000_000.0


def test_a_node_gets_its_burst_then_its_rate_and_others_are_untouched() -> None:
    gate = NodeAdmission(10.0, 5)
    assert [gate.admit("a", T) for _ in range(7)] == [True] * 5 + [False] * 2
    assert all(gate.admit("b", T) for _ in range(5))  # b's budget is its own
    assert [gate.admit("a", T + 0.25) for _ in range(3)] == [True, True, False]  # 2.5 back
    # Refills to the burst, never beyond.
    assert [gate.admit("a", T + 60) for _ in range(6)] == [True] * 5 + [False]


def test_a_backlog_made_over_hours_is_no_flood_however_fast_it_arrives() -> None:
    # An uplink cut for three hours, a passage every 20 s: the outbox delivers the lot in
    # seconds, and the hub reads it in one go. Each event is dated when it was made.
    gate = NodeAdmission(1.0, 5)
    made = [T + 20 * i for i in range(540)]
    assert all(gate.admit("a", at) for at in made)


def test_a_flood_is_many_events_in_little_node_time() -> None:
    gate = NodeAdmission(1.0, 5)
    admitted = [gate.admit("a", T + i / 1000) for i in range(1000)]  # 1000 in one second
    assert sum(admitted) == 5 + 0  # the burst; the second has not passed yet


def test_a_clock_stepped_back_gives_no_tokens_back() -> None:
    gate = NodeAdmission(1.0, 2)
    assert gate.admit("a", T + 100)
    assert gate.admit("a", T + 100)
    assert not gate.admit("a", T)  # dated earlier: takes, never refills
    assert gate.admit("a", T + 101)


def test_zero_rate_admits_everything() -> None:
    gate = NodeAdmission(0.0, 1)
    assert all(gate.admit("a", T) for _ in range(1000))


def test_invented_node_ids_do_not_grow_memory_without_end() -> None:
    gate = NodeAdmission(1.0, 2, max_nodes=100)
    for i in range(1000):
        assert gate.admit(f"n{i}", T + i * 0.01)
    assert len(gate._buckets) <= 101
