"""The node's gpiozero devices, built from the pin config with one pin factory.

A Pi passes ``pin_factory=None`` (gpiozero's default, chosen by GPIOZERO_PIN_FACTORY);
tests and the simulator pass a MockFactory and drive the same devices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gpiozero import LED, Buzzer, DigitalInputDevice, DigitalOutputDevice

from checkpoint.contract.node.config import BarrierConfig, PinsConfig


@dataclass
class Devices:
    presence: Any
    presence_out: Any | None
    closed_switch: Any  # active = barrier at its closed limit
    open_switch: Any  # active = barrier at its open limit
    relay: Any  # on = drive the barrier open
    green: Any
    red: Any
    buzzer: Any
    override_key: Any | None = None  # active = the operator turned the key

    @classmethod
    def build(cls, pins: PinsConfig, barrier: BarrierConfig, pin_factory: Any = None) -> Devices:
        made: list[Any] = []

        def keep(device: Any) -> Any:
            made.append(device)
            return device

        try:
            # Pull-downs: an unplugged sensor or switch reads "nobody" / "not at the limit",
            # which supervision then reports instead of a floating input inventing events.
            return cls(
                presence=keep(DigitalInputDevice(pins.presence, pin_factory=pin_factory)),
                presence_out=keep(DigitalInputDevice(pins.presence_out, pin_factory=pin_factory))
                if pins.presence_out is not None
                else None,
                closed_switch=keep(
                    DigitalInputDevice(
                        pins.barrier_closed,
                        bounce_time=barrier.debounce_s,
                        pin_factory=pin_factory,
                    )
                ),
                open_switch=keep(
                    DigitalInputDevice(
                        pins.barrier_open, bounce_time=barrier.debounce_s, pin_factory=pin_factory
                    )
                ),
                relay=keep(DigitalOutputDevice(pins.barrier_relay, pin_factory=pin_factory)),
                green=keep(LED(pins.green_light, pin_factory=pin_factory)),
                red=keep(LED(pins.red_light, pin_factory=pin_factory)),
                buzzer=keep(Buzzer(pins.buzzer, pin_factory=pin_factory)),
                override_key=keep(
                    DigitalInputDevice(
                        pins.override_key, bounce_time=barrier.debounce_s, pin_factory=pin_factory
                    )
                )
                if pins.override_key is not None
                else None,
            )
        except Exception:
            for device in made:  # do not leave pins claimed when a later one fails
                device.close()
            raise

    def close(self) -> None:
        for device in (
            self.presence,
            self.presence_out,
            self.closed_switch,
            self.open_switch,
            self.relay,
            self.green,
            self.red,
            self.buzzer,
            self.override_key,
        ):
            if device is not None:
                device.close()
