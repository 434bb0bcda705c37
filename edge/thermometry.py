"""One body-temperature measurement: several thermometer samples, averaged."""

from __future__ import annotations

import time
from dataclasses import dataclass

from edge.hardware.mlx90614 import MLX90614


@dataclass(frozen=True, slots=True)
class Measurement:
    object_c: float
    ambient_c: float
    samples: int
    spread_c: float


def measure(sensor: MLX90614, samples: int, interval_s: float = 0.0) -> Measurement:
    """Average ``samples`` object readings; raises ThermometerError if the sensor fails."""
    values = []
    for i in range(samples):
        if i and interval_s:
            time.sleep(interval_s)
        values.append(sensor.object_c())
    return Measurement(
        object_c=round(sum(values) / len(values), 2),
        ambient_c=sensor.ambient_c(),
        samples=len(values),
        spread_c=round(max(values) - min(values), 2),
    )
