"""The per-node token bucket: each node has its own budget, refilled with time."""

from __future__ import annotations

from hub.ingest.admission import NodeAdmission


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_node_gets_its_burst_then_its_rate_and_others_are_untouched() -> None:
    clock = Clock()
    gate = NodeAdmission(10.0, 5, clock=clock)
    assert [gate.admit("a") for _ in range(7)] == [True] * 5 + [False] * 2
    assert all(gate.admit("b") for _ in range(5))  # b's budget is its own
    clock.now += 0.25  # 2.5 tokens back
    assert [gate.admit("a") for _ in range(3)] == [True, True, False]
    clock.now += 60  # refills to the burst, never beyond
    assert [gate.admit("a") for _ in range(6)] == [True] * 5 + [False]


def test_zero_rate_admits_everything() -> None:
    gate = NodeAdmission(0.0, 1)
    assert all(gate.admit("a") for _ in range(1000))


def test_invented_node_ids_do_not_grow_memory_without_end() -> None:
    clock = Clock()
    gate = NodeAdmission(1.0, 2, max_nodes=100, clock=clock)
    for i in range(1000):
        assert gate.admit(f"n{i}")
        clock.now += 0.01
    assert len(gate._buckets) <= 101
