"""The hub's background rounds: on time, past a failing round, and stopped for good."""

from __future__ import annotations

import threading

from hub.periodic import Periodic
from tests.helpers import wait_for


def test_a_failing_round_is_logged_and_the_next_comes_on_time() -> None:
    calls: list[int] = []

    def work() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("the state store is away")

    loop = Periodic("test-rounds", 0.01, work)
    loop.start()
    try:
        wait_for(lambda: len(calls) >= 3, timeout_s=5, what="rounds after a failure")
    finally:
        loop.stop()
    done = len(calls)
    threading.Event().wait(0.05)
    assert len(calls) == done  # stopped: no round after stop returned


def test_at_start_the_first_round_does_not_wait_a_period() -> None:
    calls: list[str] = []
    loop = Periodic("test-at-start", 3600, lambda: calls.append("round"), at_start=True)
    loop.start()
    try:
        wait_for(lambda: calls != [], timeout_s=5, what="the round at start")
    finally:
        loop.stop()
    assert calls == ["round"]


def test_work_may_stop_its_own_loop() -> None:
    calls: list[str] = []
    loop: Periodic

    def work() -> None:
        calls.append(threading.current_thread().name)
        loop.stop()  # from the loop's own thread: ends it without joining itself

    loop = Periodic("test-self-stop", 0.01, work)
    loop.start()
    wait_for(lambda: calls != [], timeout_s=5, what="the first round")
    threading.Event().wait(0.1)  # ten periods: no second round comes
    loop.stop()
    assert calls == ["test-self-stop"]
