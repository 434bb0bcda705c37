"""An emulated barrier motor for MockFactory pins: the relay moves the limit switches.

Like gpiozero's own MockConnectedPin, the physics lives in a pin subclass: when the node
switches the relay pin, the closed-limit switch opens at once and the open-limit switch
closes after the travel time (and the reverse). It can be told to jam, so that
supervision sees a real actuator fault.
"""

from __future__ import annotations

import threading
from typing import Any

from gpiozero.pins.mock import MockFactory, MockPin

from checkpoint.contract.node.config import PinsConfig


class MotorRelayPin(MockPin):  # type: ignore[misc]  # gpiozero is untyped
    def __init__(self, factory: Any, info: Any, barrier: EmulatedBarrier | None = None) -> None:
        super().__init__(factory, info)
        self.barrier = barrier

    def _change_state(self, value: bool) -> bool:
        changed: bool = super()._change_state(value)
        if changed and self.barrier is not None:
            self.barrier.relay_changed(value)
        return changed


class EmulatedBarrier:
    """Create before the node's devices (it claims the relay pin); ``settle()`` after."""

    def __init__(self, factory: MockFactory, pins: PinsConfig, travel_s: float = 0.0) -> None:
        self.travel_s = travel_s
        self.jammed = False  # the motor runs but the arm does not move
        self.moves = 0
        self.closed_pin: Any = factory.pin(pins.barrier_closed)
        self.open_pin: Any = factory.pin(pins.barrier_open)
        self.relay_pin: Any = factory.pin(pins.barrier_relay, pin_class=MotorRelayPin, barrier=self)
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def settle(self) -> None:
        """Put the arm down: the node's pull-downs read both switches low at start."""
        self.open_pin.drive_low()
        self.closed_pin.drive_high()

    def relay_changed(self, opening: bool) -> None:
        if self.jammed:
            return
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self.moves += 1
            (self.closed_pin if opening else self.open_pin).drive_low()
            arrive = self.open_pin if opening else self.closed_pin
            if self.travel_s <= 0:
                arrive.drive_high()
                return
            self._timer = threading.Timer(self.travel_s, arrive.drive_high)
            self._timer.daemon = True
            self._timer.start()

    def force_open(self) -> None:
        """Someone lifts the arm by hand: the relay is off, the switches move anyway."""
        self.closed_pin.drive_low()
        self.open_pin.drive_high()

    def push_down(self) -> None:
        self.open_pin.drive_low()
        self.closed_pin.drive_high()

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
