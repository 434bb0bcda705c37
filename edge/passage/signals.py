"""What the volunteer sees and hears: a light and a buzzer pattern per decision reason.

The volunteer only has these to go by, so each kind of refusal sounds different:
one short beep admits; a fever is three long beeps; a problem with the pass two short
beeps; no pass at all one long beep; a thermometer fault four short beeps (call the
technician). The pattern runs in the passage worker, so pin states come in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from checkpoint.contract.models import Reason
from checkpoint.contract.node.config import SignalConfig


@dataclass(frozen=True, slots=True)
class Pattern:
    green: bool
    beeps: int
    long: bool = False


ADMIT = Pattern(green=True, beeps=1)
PASS_PROBLEM = Pattern(green=False, beeps=2)
PATTERNS: dict[Reason, Pattern] = {
    Reason.OK: ADMIT,
    Reason.OVERRIDE: ADMIT,
    Reason.FEVER: Pattern(green=False, beeps=3, long=True),
    Reason.NO_PASS: Pattern(green=False, beeps=1, long=True),
    Reason.THERMOMETER_FAULT: Pattern(green=False, beeps=4),
}


def pattern_for(reason: Reason) -> Pattern:
    return PATTERNS.get(reason, PASS_PROBLEM)


class Signals:
    def __init__(
        self,
        green: Any,
        red: Any,
        buzzer: Any,
        config: SignalConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.green = green
        self.red = red
        self.buzzer = buzzer
        self.config = config
        self.sleep = sleep

    def announce(self, reason: Reason) -> Pattern:
        """Light up and beep for ``reason``; the light stays on until ``done()``."""
        pattern = pattern_for(reason)
        (self.green if pattern.green else self.red).on()
        cfg = self.config
        for i in range(pattern.beeps):
            if i:
                self.sleep(cfg.gap_s)
            self.buzzer.on()
            self.sleep(cfg.long_beep_s if pattern.long else cfg.beep_s)
            self.buzzer.off()
        return pattern

    def done(self) -> None:
        self.green.off()
        self.red.off()
