"""The passage state machine: presence -> temperature -> pass -> decision -> barrier.

One call of ``run`` is one person and ends in exactly one Passage event that ties the
temperature, the pass and the barrier motion together under its own id. A thermometer
fault or an unreadable pass is a refusal with its reason, never an exception: the node
keeps deciding locally whatever fails around it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from checkpoint.contract.models import (
    BarrierMotion,
    Decision,
    Override,
    Passage,
    PassCheck,
    Reading,
    Reason,
    TemperatureCheck,
)
from checkpoint.contract.node.config import NodeConfig
from checkpoint.passes.model import Category
from edge.barrier.supervisor import BarrierSupervisor
from edge.events import Emitter
from edge.passage.decide import decide, temperature_refusal, unreadable_check
from edge.passage.override import reason_of
from edge.passage.passback import Passback
from edge.passage.scanner import PassScanner
from edge.passage.signals import Signals
from edge.passcheck import PassContext, PassVerifier
from edge.thermometry import Measurement, Thermometry

log = logging.getLogger(__name__)
Direction = Literal["in", "out"]


class Stage(StrEnum):
    IDLE = "idle"
    TEMPERATURE = "temperature"
    SCAN = "scan"
    BARRIER = "barrier"
    SIGNAL = "signal"


class PassageMachine:
    def __init__(
        self,
        config: NodeConfig,
        emitter: Emitter,
        *,
        thermometry: Thermometry,
        scanner: PassScanner,
        verifier: PassVerifier,
        barrier: BarrierSupervisor,
        signals: Signals,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        shift_plan: Callable[[datetime], str | None] = lambda _now: None,
        screens: Callable[[str, str | None], bool] = lambda _level, _zone: True,
    ) -> None:
        self.config = config
        self.emitter = emitter
        self.thermometry = thermometry
        self.scanner = scanner
        self.verifier = verifier
        self.barrier = barrier
        self.signals = signals
        self.clock = clock
        self.wall_clock = wall_clock
        self.sleep = sleep
        self.stage = Stage.IDLE
        self.verifier_errors = 0
        self.shift_plan = shift_plan  # the planned shift at a moment (zone policy)
        self.screens = screens  # whether the level's rule in this zone screens temperature
        self.on_duty: str | None = None  # the operator signed in with a badge
        self.passback = Passback(config.anti_passback)

    def emit_reading(self, m: Measurement) -> None:
        self.emitter.emit(
            Reading,
            object_c=m.object_c,
            ambient_c=m.ambient_c,
            samples=m.samples,
            spread_c=m.spread_c,
            emissivity=self.config.thermometer.emissivity,
        )

    def _verify(
        self, text: str, direction: Direction, purpose: Literal["passage", "badge"] = "passage"
    ) -> PassCheck:
        context = PassContext(
            now=self.wall_clock(),
            ward_id=self.config.ward_id,
            checkpoint_id=self.config.checkpoint_id,
            zone_level=self.config.zone_level,
            direction=direction,
            zone_id=self.config.zone_id,
            purpose=purpose,
        )
        try:
            return self.verifier.check(text, context)
        except Exception:  # a verifier bug must refuse one person, not stop the node
            self.verifier_errors += 1
            log.exception("pass verifier failed; refusing as not a pass")
            return PassCheck(valid=False, reason=Reason.PASS_NOT_A_PASS)

    def duty(self) -> tuple[str | None, str | None]:
        """The operator signed in and the planned shift now, for health reports."""
        return self.on_duty, self.shift_plan(self.wall_clock())

    def _sign(self, text: str, direction: Direction) -> bool:
        """An operator badge shown at the post signs its holder in, or out if on duty."""
        badge = self._verify(text, direction, purpose="badge")
        if not badge.valid or badge.pass_id is None:
            return False
        signing_out = self.on_duty == badge.pass_id
        self.on_duty = None if signing_out else badge.pass_id
        log.info("operator %s signed %s", badge.pass_id, "out" if signing_out else "in")
        self.signals.announce(Reason.OK)
        self.signals.done()
        return True

    def run(self, direction: Direction, seen: float | None = None) -> Passage | None:
        """One person; ``seen`` is when presence fired (``clock``), for ``duration_ms``.

        None when it was the operator signing in or out with their badge (no passage)."""
        cfg = self.config
        started = self.clock() if seen is None else seen
        refusal: Reason | None = None
        temperature: TemperatureCheck | None = None
        if self.screens(cfg.zone_level, cfg.zone_id):
            self.stage = Stage.TEMPERATURE
            screening = self.thermometry.screen()
            for m in screening.measurements:
                self.emit_reading(m)
            refusal = temperature_refusal(screening)
            temperature = screening.check
        pass_check: PassCheck | None = None
        if refusal is None:
            self.stage = Stage.SCAN
            scan = self.scanner.wait_for_pass(cfg.scanner.pass_timeout_s)
            pass_check = unreadable_check(scan)
            if pass_check is None and scan is not None and scan.text is not None:
                pass_check = self._verify(scan.text, direction)
                if pass_check.category == Category.OPERATOR and self._sign(scan.text, direction):
                    self.stage = Stage.IDLE
                    return None
        pass_id = pass_check.pass_id if pass_check else None
        passback = self.passback.refuses(pass_id, direction, self.clock())
        decision, reason = decide(refusal, pass_check, passback=passback)
        if decision is Decision.ADMIT:
            self.passback.admitted(pass_id, direction, self.clock())
        return self._finish(
            direction, decision, reason, started, temperature, pass_check, override=None
        )

    def override(self) -> Passage:
        """The operator turned the override key: their badge, a reason card, the barrier.

        Without a valid operator badge the barrier stays shut (decision refuse)."""
        cfg = self.config
        started = self.clock()
        self.stage = Stage.SCAN
        scan = self.scanner.wait_for_pass(cfg.override.badge_timeout_s)
        if scan is None or scan.text is None:
            badge = unreadable_check(scan) or PassCheck(valid=False, reason=Reason.NO_PASS)
        else:
            badge = self._verify(scan.text, cfg.direction, purpose="badge")
        if not badge.valid or badge.pass_id is None:
            return self._finish(
                cfg.direction, Decision.REFUSE, badge.reason, started, None, badge, override=None
            )
        why = reason_of(self.scanner.wait_for_pass(cfg.override.reason_timeout_s))
        override = Override(operator=badge.pass_id, reason=why)
        return self._finish(
            cfg.direction, Decision.OVERRIDE, Reason.OVERRIDE, started, None, badge, override
        )

    def _finish(
        self,
        direction: Direction,
        decision: Decision,
        reason: Reason,
        started: float,
        temperature: TemperatureCheck | None,
        pass_check: PassCheck | None,
        override: Override | None,
    ) -> Passage:
        """Signal, move the barrier if it opens, and emit the Passage."""
        cfg = self.config
        decided = self.clock()
        self.stage = Stage.SIGNAL
        self.signals.announce(reason)
        motion: BarrierMotion | None = None
        try:
            if decision is not Decision.REFUSE:
                self.stage = Stage.BARRIER
                motion = self.barrier.cycle(cfg.barrier.open_s)
            else:
                self.sleep(cfg.signals.refuse_show_s)
        finally:
            self.signals.done()
            self.stage = Stage.IDLE
        log.debug("passage %s: %s (%s)", direction, decision.value, reason.value)
        return self.emitter.emit(
            Passage,
            direction=direction,
            decision=decision,
            reason=reason,
            zone_level=cfg.zone_level,
            temperature=temperature,
            pass_check=pass_check,
            barrier=motion,
            duration_ms=round((decided - started) * 1000),
            override=override,
            operator=self.on_duty,
            shift=self.shift_plan(self.wall_clock()),
            zone_id=cfg.zone_id,
        )
