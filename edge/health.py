"""Health events: what a technician needs to know about a node without visiting it.

The sampler reads what it can itself (uptime, CPU temperature, disk) and takes the rest
through callables it is given: the outbox's depth and drops come from the uplink, error
counts and flags from the node, so each part reports what only it knows.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from checkpoint import __version__
from checkpoint.contract.models import Health
from checkpoint.contract.node.config import HealthConfig
from edge.events import Emitter

log = logging.getLogger(__name__)

THERMAL_ZONE = Path("/sys/class/thermal/thermal_zone0/temp")


def cpu_temperature_c(path: Path = THERMAL_ZONE) -> float | None:
    """The SoC temperature on a Pi (millidegrees in sysfs); None where there is none."""
    try:
        return round(int(path.read_text().strip()) / 1000, 1)
    except (OSError, ValueError):
        return None


def _zero() -> int:
    return 0


class HealthSampler:
    def __init__(
        self,
        emitter: Emitter,
        *,
        config_version: Callable[[], str],
        outbox_depth: Callable[[], int] = _zero,
        outbox_dropped: Callable[[], int] = _zero,
        camera_fps: Callable[[], float | None] = lambda: None,
        sensor_errors: Callable[[], dict[str, int]] = dict,
        flags: Callable[[], list[str]] = list,
        duty: Callable[[], tuple[str | None, str | None]] = lambda: (None, None),
        disk_path: str = "/",
        disk_low_bytes: int = 50_000_000,
        thermal_path: Path = THERMAL_ZONE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.emitter = emitter
        self.config_version = config_version
        self.outbox_depth = outbox_depth
        self.outbox_dropped = outbox_dropped
        self.camera_fps = camera_fps
        self.sensor_errors = sensor_errors
        self.flags = flags
        self.duty = duty  # (operator signed in, planned shift)
        self.disk_path = disk_path
        self.disk_low_bytes = disk_low_bytes
        self.thermal_path = thermal_path
        self.clock = clock
        self.started = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reconfigure(self, config: HealthConfig) -> None:
        self.disk_path = config.disk_path
        self.disk_low_bytes = config.disk_low_bytes

    def sample(
        self,
        *,
        outbox_depth: int | None = None,
        outbox_dropped: int | None = None,
        extra_flags: Iterable[str] = (),
        levels_version: int | None = None,
        policy_version: int | None = None,
    ) -> Health:
        """Build one Health event and emit it; the arguments override the callables, and
        ``extra_flags`` adds what the runtime knows (outbox, uplink, trust lists)."""
        flags = [*self.flags(), *extra_flags]
        try:
            free = shutil.disk_usage(self.disk_path).free
        except OSError as exc:
            log.warning("cannot read free space of %s: %s", self.disk_path, exc)
            free = 0
            flags.append("disk_unreadable")
        if free < self.disk_low_bytes and "disk_unreadable" not in flags:
            flags.append("disk_low")
        operator, shift = self.duty()
        return self.emitter.emit(
            Health,
            uptime_s=round(self.clock() - self.started, 3),
            cpu_temp_c=cpu_temperature_c(self.thermal_path),
            disk_free_bytes=free,
            outbox_depth=self.outbox_depth() if outbox_depth is None else outbox_depth,
            outbox_dropped=self.outbox_dropped() if outbox_dropped is None else outbox_dropped,
            camera_fps=self.camera_fps(),
            sensor_errors=self.sensor_errors(),
            config_version=self.config_version(),
            software_version=__version__,
            flags=sorted(set(flags)),
            levels_version=levels_version,
            policy_version=policy_version,
            operator=operator,
            shift=shift,
        )

    def start(self, interval_s: float) -> None:
        """Emit a Health event every ``interval_s`` from a thread of its own."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval_s,), name="health", daemon=True
        )
        self._thread.start()

    def _run(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.sample()
            except Exception:  # health must keep coming even if one sample fails
                log.exception("health sample failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
