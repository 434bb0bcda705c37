"""Barrier supervision at the node, where the order of commands and switch changes is known.

The two limit switches and the relay command tell the whole story:

- forced_open: the arm leaves its closed limit (or reaches open) with no open command.
- held_open: the arm is away from its closed limit longer than ``held_open_limit_s``.
- open_failed / close_failed: after a command the arm does not reach the matching limit
  within ``motion_timeout_s`` (an actuator fault).
- chatter: ``chatter_changes`` switch changes within ``chatter_window_s`` (a loose wire or
  a worn switch); it clears after a quiet window.

Each alarm is one BarrierAlarm event, and one ``cleared`` event (detail = the alarm's kind)
when its condition ends. Pin callbacks only record and wake the supervisor's own thread;
events are emitted from that thread, so a slow emitter never stalls gpiozero.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from checkpoint.contract.models import BarrierAlarm, BarrierAlarmKind, BarrierMotion
from checkpoint.contract.node.config import BarrierConfig
from edge.events import Emitter

log = logging.getLogger(__name__)
K = BarrierAlarmKind
Emits = list[tuple[K, float | None, str]]


class BarrierSupervisor:
    def __init__(
        self,
        closed_switch: Any,
        open_switch: Any,
        relay: Any,
        config: BarrierConfig,
        emitter: Emitter,
        *,
        clock: Callable[[], float] = time.monotonic,
        manual: Callable[[], bool] = lambda: False,
    ) -> None:
        """``manual``: whether the operator's override key is turned now; an opening
        without a command while it is turned is an override, not a forced opening."""
        self.manual = manual
        self.closed_switch = closed_switch
        self.open_switch = open_switch
        self.relay = relay
        self.config = config
        self.emitter = emitter
        self.clock = clock
        self._cond = threading.Condition()
        self._commanded_open = False
        self._command_at: float | None = None  # last command, until its motion is judged
        self._away_since: float | None = None  # arm not at its closed limit since
        self._changes: deque[float] = deque()
        self._active: dict[K, float] = {}  # alarm -> raised at
        self._pending_forced = False
        self._stop = False
        now = clock()
        if not closed_switch.is_active:
            self._away_since = now
            self._pending_forced = True  # found open at start, and nobody asked for it
        # Switch changes a command makes happen are expected once each; others count as
        # chatter (two passages in a row are eight changes, and no fault).
        self._expected: set[tuple[str, bool]] = set()
        closed_switch.when_activated = lambda: self._on_switch("closed", True)
        closed_switch.when_deactivated = lambda: self._on_switch("closed", False)
        open_switch.when_activated = lambda: self._on_switch("open", True)
        open_switch.when_deactivated = lambda: self._on_switch("open", False)
        self._thread = threading.Thread(target=self._run, name="barrier-supervisor", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ inputs

    def _on_switch(self, switch: str, active: bool) -> None:
        # gpiozero's thread (or the caller's, on a MockPin): record and wake, nothing more.
        with self._cond:
            now = self.clock()
            if (switch, active) in self._expected:
                self._expected.discard((switch, active))
            else:
                self._changes.append(now)
            closed = bool(self.closed_switch.is_active)
            # Judged now, while the switch moves: the key may be let go before evaluate().
            uncommanded = not self._commanded_open and not self.manual()
            if not closed and self._away_since is None:
                self._away_since = now
                if uncommanded:
                    self._pending_forced = True
            elif closed:
                self._away_since = None
            if self.open_switch.is_active and uncommanded:
                self._pending_forced = True
            self._cond.notify_all()

    def command(self, open_: bool) -> None:
        with self._cond:
            self._commanded_open = open_
            self._command_at = self.clock()
            # Expect only the changes still to happen from where the arm is now.
            at_closed = bool(self.closed_switch.is_active)
            at_open = bool(self.open_switch.is_active)
            self._expected = set()
            if at_closed == open_:
                self._expected.add(("closed", not open_))
            if at_open != open_:
                self._expected.add(("open", open_))
            # Set the relay inside the lock: the switch callbacks it causes see the command.
            self.relay.value = open_
            self._cond.notify_all()

    def cycle(self, open_s: float) -> BarrierMotion:
        """Open, stay open ``open_s``, close; waits for the limit switches (passage worker)."""
        start = self.clock()
        self.command(True)
        opened = self._wait(lambda: bool(self.open_switch.is_active))
        open_took = round(self.clock() - start, 3) if opened else None
        # Judge the motion here: the close command below would otherwise hide it from the
        # supervisor thread, which may not have woken at the deadline (or the arrival) yet.
        self._motion_judged(K.OPEN_FAILED, opened, "open")
        if opened and open_s > 0:
            time.sleep(open_s)
        self.command(False)
        closed = self._wait(lambda: bool(self.closed_switch.is_active))
        self._motion_judged(K.CLOSE_FAILED, closed, "closed")
        fault = None
        if not opened:
            fault = K.OPEN_FAILED.value
        elif not closed:
            fault = K.CLOSE_FAILED.value
        return BarrierMotion(opened=opened, open_s=open_took, closed=closed, fault=fault)

    def _motion_judged(self, kind: K, reached: bool, limit: str) -> None:
        emits: Emits = []
        with self._cond:
            timeout = self.config.motion_timeout_s
            if reached:
                self._clear(kind, self.clock(), emits)
            else:
                why = f"no {limit} limit {timeout:g}s after the command"
                self._raise(kind, self.clock(), emits, why)
        for alarm, duration, detail in emits:
            self._emit(alarm, duration, detail)

    def _wait(self, reached: Callable[[], bool]) -> bool:
        with self._cond:
            return self._cond.wait_for(reached, timeout=self.config.motion_timeout_s)

    @property
    def active(self) -> set[K]:
        with self._cond:
            return set(self._active)

    # ------------------------------------------------------------------ judgement

    def _raise(self, kind: K, now: float, emits: Emits, why: str) -> None:
        if kind not in self._active:
            self._active[kind] = now
            emits.append((kind, None, why))

    def _clear(self, kind: K, now: float, emits: Emits) -> None:
        raised = self._active.pop(kind, None)
        if raised is not None:
            emits.append((K.CLEARED, round(now - raised, 3), kind.value))

    def evaluate(self) -> float | None:
        """Judge the state now; emit what changed. Returns seconds until the next deadline."""
        emits: list[tuple[K, float | None, str]] = []
        deadlines: list[float] = []
        with self._cond:
            now = self.clock()
            closed = bool(self.closed_switch.is_active)
            at_open = bool(self.open_switch.is_active)
            self._judge_position(now, closed, at_open, emits, deadlines)
            self._judge_motion(now, closed, at_open, emits, deadlines)
            self._judge_chatter(now, emits, deadlines)
        for kind, duration, detail in emits:
            self._emit(kind, duration, detail)
        return max(0.0, min(deadlines) - now) if deadlines else None

    def _judge_position(
        self, now: float, closed: bool, at_open: bool, emits: Emits, deadlines: list[float]
    ) -> None:
        if self._pending_forced:
            self._pending_forced = False
            if not self._commanded_open and not closed:
                self._raise(K.FORCED_OPEN, now, emits, "arm left the closed limit uncommanded")
        if closed and not at_open:
            self._clear(K.FORCED_OPEN, now, emits)
            self._clear(K.HELD_OPEN, now, emits)
        if self._away_since is not None:
            limit = self.config.held_open_limit_s
            if now >= self._away_since + limit:
                self._raise(K.HELD_OPEN, now, emits, f"open over {limit:g}s")
            else:
                deadlines.append(self._away_since + limit)

    def _judge_motion(
        self, now: float, closed: bool, at_open: bool, emits: Emits, deadlines: list[float]
    ) -> None:
        timeout = self.config.motion_timeout_s
        if self._command_at is not None:
            reached = at_open if self._commanded_open else closed
            if reached:
                self._command_at = None
            elif now >= self._command_at + timeout:
                self._command_at = None
                kind, limit = (
                    (K.OPEN_FAILED, "open") if self._commanded_open else (K.CLOSE_FAILED, "closed")
                )
                self._raise(kind, now, emits, f"no {limit} limit {timeout:g}s after the command")
            else:
                deadlines.append(self._command_at + timeout)
        # A motion fault lasts until that motion works again (a barrier_test, a passage).
        if self._commanded_open and at_open:
            self._clear(K.OPEN_FAILED, now, emits)
        if closed:
            self._clear(K.CLOSE_FAILED, now, emits)

    def _judge_chatter(self, now: float, emits: Emits, deadlines: list[float]) -> None:
        window = self.config.chatter_window_s
        while self._changes and self._changes[0] < now - window:
            self._changes.popleft()
        if len(self._changes) >= self.config.chatter_changes:
            detail = f"{len(self._changes)} switch changes in {window:g}s"
            self._raise(K.CHATTER, now, emits, detail)
        if K.CHATTER in self._active:
            if self._changes:
                deadlines.append(self._changes[0] + window)
            else:
                self._clear(K.CHATTER, now, emits)

    def _emit(self, kind: K, duration_s: float | None, detail: str) -> None:
        log.warning("barrier %s: %s", kind.value, detail)
        try:
            self.emitter.emit(BarrierAlarm, kind=kind, duration_s=duration_s, detail=detail)
        except Exception:  # the supervisor must outlive a failing emitter
            log.exception("could not record barrier %s", kind.value)

    def _run(self) -> None:
        wait: float | None = None
        while True:
            with self._cond:
                if not self._stop:
                    # Deadlines come from the injected clock; the real wait only bounds them.
                    self._cond.wait(timeout=max(wait, 0.005) if wait is not None else 1.0)
                stop = self._stop
            if stop:
                return
            wait = self.evaluate()

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=2.0)
        for device in (self.closed_switch, self.open_switch):
            device.when_activated = None
            device.when_deactivated = None
