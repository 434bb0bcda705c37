"""Body temperature: several samples per measurement, and a second measurement before a
high first reading counts as fever (a hot forehead after a motorbike ride in the sun is
not a fever; the field practice is to re-measure).

Faults the driver cannot see are caught here: a value no living person has (implausible)
and a sensor that repeats the very same raw value measurement after measurement (stuck).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from checkpoint.contract.models import TemperatureCheck
from checkpoint.contract.node.config import ThermometerConfig
from edge.hardware.mlx90614 import MLX90614, ThermometerError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Measurement:
    object_c: float
    ambient_c: float
    samples: int
    spread_c: float
    values: tuple[float, ...] = ()


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
        values=tuple(values),
    )


@dataclass
class Screening:
    """The temperature part of a passage: the contract check, the measurements behind it."""

    check: TemperatureCheck
    measurements: list[Measurement] = field(default_factory=list)
    fault: str | None = None


class SuspectMeasurement(ThermometerError):
    """The sensor answered, but the value cannot be trusted (implausible or stuck).

    The measurement still goes out as a ``reading`` event: the hub's thermometer rules need
    exactly these values as evidence, even though the node refuses to decide on them.
    """

    def __init__(self, message: str, measurement: Measurement) -> None:
        super().__init__(message)
        self.measurement = measurement


def _evidence(exc: ThermometerError) -> list[Measurement]:
    return [exc.measurement] if isinstance(exc, SuspectMeasurement) else []


class Thermometry:
    def __init__(
        self,
        sensor: MLX90614,
        config: ThermometerConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sensor = sensor
        self.config = config
        self.sleep = sleep
        self.errors: dict[str, int] = {"implausible": 0, "stuck": 0}
        self.last_fault: str | None = None
        self._flat: deque[tuple[float, ...]] = deque(maxlen=max(config.stuck_measurements, 1))

    def reconfigure(self, config: ThermometerConfig) -> None:
        """Take a new config between measurements; a new emissivity goes to the sensor."""
        if config.emissivity != self.config.emissivity:
            self.sensor.set_emissivity(config.emissivity)
        self.config = config

    @property
    def faulty(self) -> bool:
        """True while the last measurement failed: the health flag thermometer_fault."""
        return self.last_fault is not None

    def error_counts(self) -> dict[str, int]:
        return {f"thermometer_{k}": v for k, v in {**self.sensor.errors, **self.errors}.items()}

    def measure(self) -> Measurement:
        """One checked measurement; ThermometerError (with a clear message) if untrustworthy."""
        cfg = self.config
        try:
            m = measure(self.sensor, cfg.samples, cfg.sample_interval_s)
            self._check(m)
        except ThermometerError as exc:
            if self.last_fault is None:
                log.error("thermometer fault: %s", exc)
            self.last_fault = str(exc)
            raise
        if self.last_fault is not None:
            log.info("thermometer works again")
        self.last_fault = None
        return m

    def _check(self, m: Measurement) -> None:
        cfg = self.config
        if not cfg.plausible_min_c <= m.object_c <= cfg.plausible_max_c:
            self.errors["implausible"] += 1
            raise SuspectMeasurement(
                f"MLX90614 reads {m.object_c:.2f} °C, outside the plausible "
                f"{cfg.plausible_min_c:g}..{cfg.plausible_max_c:g} °C",
                m,
            )
        if cfg.stuck_measurements and m.samples > 1:
            # A live sensor's noise (a few 0.02 K steps) never repeats every sample exactly.
            if len(set(m.values)) == 1:
                self._flat.append(m.values)
            else:
                self._flat.clear()
            if len(self._flat) == cfg.stuck_measurements and len(set(self._flat)) == 1:
                self.errors["stuck"] += 1
                raise SuspectMeasurement(
                    f"MLX90614 stuck at {m.object_c:.2f} °C for {cfg.stuck_measurements} "
                    "measurements",
                    m,
                )

    def screen(self) -> Screening:
        """First measurement; if it is high, wait and measure again: only that decides."""
        cfg = self.config
        threshold = cfg.fever_threshold_c
        try:
            first = self.measure()
        except ThermometerError as exc:
            check = TemperatureCheck(first_c=None, threshold_c=threshold, fever=False)
            return Screening(check, _evidence(exc), str(exc))
        if first.object_c < threshold:
            check = TemperatureCheck(
                first_c=first.object_c,
                ambient_c=first.ambient_c,
                threshold_c=threshold,
                fever=False,
            )
            return Screening(check, [first])
        log.debug("high first reading %.2f °C: re-measuring", first.object_c)
        self.sleep(cfg.remeasure_delay_s)
        try:
            second = self.measure()
        except ThermometerError as exc:
            check = TemperatureCheck(
                first_c=first.object_c,
                ambient_c=first.ambient_c,
                threshold_c=threshold,
                fever=False,
            )
            return Screening(check, [first, *_evidence(exc)], str(exc))
        check = TemperatureCheck(
            first_c=first.object_c,
            second_c=second.object_c,
            ambient_c=second.ambient_c,
            threshold_c=threshold,
            fever=second.object_c >= threshold,
        )
        return Screening(check, [first, second])
