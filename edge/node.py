"""The checkpoint node: devices built from config, events handed to an emitter.

Walking-skeleton version: presence starts a temperature measurement that becomes a
``reading`` event. The passage state machine, barrier supervision and health grow here.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from gpiozero import DigitalInputDevice

from checkpoint.contract import Event, Reading, uuid7
from edge.config import NodeConfig
from edge.hardware.mlx90614 import MLX90614, ThermometerError
from edge.hardware.smbus import SMBusLike
from edge.thermometry import measure

log = logging.getLogger(__name__)


def open_i2c_bus(number: int) -> SMBusLike:
    from smbus2 import SMBus  # imported here: only a real node has /dev/i2c-N

    bus: SMBusLike = SMBus(number)
    return bus


class Node:
    def __init__(
        self,
        config: NodeConfig,
        emit: Callable[[Event], None],
        *,
        pin_factory: Any = None,
        bus: SMBusLike | None = None,
    ) -> None:
        self.config = config
        self.emit = emit
        self._seq = itertools.count()
        t = config.thermometer
        self.thermometer = MLX90614(bus if bus is not None else open_i2c_bus(t.i2c_bus), t.address)
        self.presence = DigitalInputDevice(
            config.pins.presence, pull_up=False, pin_factory=pin_factory
        )
        self.presence.when_activated = self._on_presence

    def _on_presence(self) -> None:
        try:
            m = measure(self.thermometer, self.config.thermometer.samples)
        except ThermometerError as exc:
            log.warning("node %s: measurement failed: %s", self.config.node_id, exc)
            return
        self.emit(
            Reading(
                id=uuid7(),
                seq=next(self._seq),
                node_id=self.config.node_id,
                checkpoint_id=self.config.checkpoint_id,
                ward_id=self.config.ward_id,
                ts=datetime.now(UTC),
                object_c=m.object_c,
                ambient_c=m.ambient_c,
                samples=m.samples,
                spread_c=m.spread_c,
                emissivity=self.config.thermometer.emissivity,
            )
        )

    def close(self) -> None:
        self.presence.close()
