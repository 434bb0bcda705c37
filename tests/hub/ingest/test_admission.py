"""The per-node budget: each node's events counted per minute of its own clock (their ts),
not per minute of the hub's, and whatever order they arrive in."""

from __future__ import annotations

import random

from hub.ingest.admission import KEEP_MINUTES, NodeAdmission

T = 1_700_000_040.0  # the start of a minute


def test_a_node_gets_its_minute_and_others_are_untouched() -> None:
    gate = NodeAdmission(5)
    assert [gate.admit("a", T + i) for i in range(7)] == [True] * 5 + [False] * 2
    assert all(gate.admit("b", T) for _ in range(5))  # b's budget is its own
    assert gate.admit("a", T + 60)  # the node's next minute


def test_a_backlog_made_over_hours_is_no_flood_however_fast_it_arrives() -> None:
    # An uplink cut for three hours, an event every 2 s: the outbox delivers the lot in
    # seconds, and the hub reads it in one go. Each event is dated when it was made.
    gate = NodeAdmission(30)
    made = [T + 2 * i for i in range(5400)]
    assert all(gate.admit("a", at) for at in made)


def test_the_order_of_arrival_does_not_matter() -> None:
    # The priority lane brings a node's new passages before the bulk lane's hour of its
    # readings: the old minutes are counted as their own.
    gate = NodeAdmission(30)
    made = [T + 2 * i for i in range(1800)]
    random.Random(7).shuffle(made)
    assert all(gate.admit("a", at) for at in made)


def test_a_flood_is_many_events_in_little_node_time() -> None:
    gate = NodeAdmission(50)
    admitted = [gate.admit("a", T + i / 1000) for i in range(10_000)]  # 10,000 in 10 s
    assert sum(admitted) == 50
    assert not gate.admit("a", T + 59)  # still that minute


def test_zero_admits_everything() -> None:
    gate = NodeAdmission(0)
    assert all(gate.admit("a", T) for _ in range(1000))


def test_memory_stays_bounded() -> None:
    gate = NodeAdmission(1, max_nodes=100)
    for i in range(1000):
        assert gate.admit(f"n{i}", T)  # invented node ids
    assert len(gate._counts) <= 100
    for minute in range(3 * KEEP_MINUTES):
        assert gate.admit("old", T + 60 * minute)
    assert len(gate._counts["old"]) <= KEEP_MINUTES
