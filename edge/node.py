"""The checkpoint node: devices built from config, one worker thread that decides.

gpiozero calls pin callbacks from its own thread on a Pi; they only queue work here. The
node's worker runs passages (and hub commands) one at a time, so a measurement never
races a barrier test. Every seam has a keyword default that picks real hardware, so a
Pi needs no extra code: gpiozero's default pin factory, smbus2, picamera2.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import datetime
from typing import Any, TypeVar

from checkpoint.contract.models import BarrierMotion, Health, Passage, PassCheck, Reason
from checkpoint.contract.node.config import NodeConfig
from checkpoint.errors import CheckpointError, ConfigError
from edge.barrier.supervisor import BarrierSupervisor
from edge.events import Emitter
from edge.hardware.camera import CameraError, FrameSource, Picamera2Source
from edge.hardware.dedup import Deduplicator
from edge.hardware.devices import Devices
from edge.hardware.i2c import open_i2c_bus
from edge.hardware.mlx90614 import MLX90614, ThermometerError
from edge.hardware.smbus import SMBusLike
from edge.hardware.wedge import LineStream, WedgeReader, open_wedge
from edge.health import HealthSampler
from edge.passage.machine import Direction, PassageMachine
from edge.passage.scanner import PassScanner
from edge.passage.signals import Signals
from edge.passcheck import PassContext, PassVerifier
from edge.thermometry import Measurement, Thermometry

log = logging.getLogger(__name__)
T = TypeVar("T")


class NodeBusyError(CheckpointError, TimeoutError):
    """A command could not run: the node's worker did not get to it in time."""


class NoTrustVerifier:
    """Used when no verifier is configured: nobody passes on a pass we cannot check."""

    def check(self, text: str, context: PassContext) -> PassCheck:
        return PassCheck(valid=False, reason=Reason.STALE_TRUST)


class Node:
    def __init__(
        self,
        config: NodeConfig,
        emitter: Emitter,
        *,
        pin_factory: Any = None,
        bus: SMBusLike | None = None,
        frame_source: FrameSource | None = None,
        verifier: PassVerifier | None = None,
        clock: Callable[[], float] = time.monotonic,
        wedge: LineStream | None = None,
        shift_plan: Callable[[datetime], str | None] = lambda _now: None,
        screens: Callable[[str, str | None], bool] = lambda _level, _zone: True,
    ) -> None:
        self.config = config
        self.emitter = emitter
        self.clock = clock
        self.shift_plan = shift_plan
        self.screens = screens
        self.devices = Devices.build(config.pins, config.barrier, pin_factory)
        try:
            self._build(
                config, emitter, bus=bus, frame_source=frame_source, verifier=verifier, wedge=wedge
            )
        except BaseException:
            self.devices.close()  # a half-built node must not keep its pins claimed
            raise

    def _build(
        self,
        config: NodeConfig,
        emitter: Emitter,
        *,
        bus: SMBusLike | None,
        frame_source: FrameSource | None,
        verifier: PassVerifier | None,
        wedge: LineStream | None,
    ) -> None:
        clock = self.clock
        t = config.thermometer
        sensor = MLX90614(bus if bus is not None else open_i2c_bus(t.i2c_bus), t.address)
        try:
            sensor.set_emissivity(t.emissivity)  # no EEPROM write when it already matches
        except ThermometerError as exc:
            log.error("could not set the thermometer's emissivity: %s", exc)
        self.thermometry = Thermometry(sensor, t)
        self.camera_fault: str | None = None
        if frame_source is None and config.camera.enabled:
            try:
                frame_source = Picamera2Source(config.camera)
            except CameraError as exc:
                # Keep deciding with the wedge scanner; health carries the flag.
                log.error("%s", exc)
                self.camera_fault = str(exc)
        self.frame_source = frame_source
        self.scanner = PassScanner(
            frame_source, Deduplicator(config.scanner.dedup_window_s, clock), clock=clock
        )
        if verifier is None:
            log.warning("no pass verifier configured: every pass is refused (stale_trust)")
            verifier = NoTrustVerifier()
        self.barrier = BarrierSupervisor(
            self.devices.closed_switch,
            self.devices.open_switch,
            self.devices.relay,
            config.barrier,
            emitter,
            clock=clock,
            manual=self._key_turned,
        )
        self.signals = Signals(
            self.devices.green, self.devices.red, self.devices.buzzer, config.signals
        )
        self.machine = PassageMachine(
            config,
            emitter,
            thermometry=self.thermometry,
            scanner=self.scanner,
            verifier=verifier,
            barrier=self.barrier,
            signals=self.signals,
            clock=clock,
            shift_plan=self.shift_plan,
            screens=self.screens,
        )
        self.health_sampler = HealthSampler(
            emitter,
            config_version=lambda: self.config.version,
            camera_fps=self.scanner.fps.fps,
            sensor_errors=self.sensor_errors,
            flags=self.flags,
            duty=self.machine.duty,
            disk_path=config.health.disk_path,
            disk_low_bytes=config.health.disk_low_bytes,
            clock=clock,
        )
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._pending_passage = False
        self._lock = threading.Lock()
        self.passages = 0
        self.last_passage: Passage | None = None
        self._worker = threading.Thread(target=self._work, name="node-worker", daemon=True)
        self._worker.start()
        self.wedge: WedgeReader | None = None
        stream = wedge
        if stream is None and config.scanner.wedge_device:
            try:
                stream = open_wedge(config.scanner.wedge_device)
            except OSError as exc:
                log.error("cannot open wedge scanner %s: %s", config.scanner.wedge_device, exc)
        if stream is not None:
            self.wedge = WedgeReader(stream, self.scanner.feed, config.scanner.max_code_chars)
        self.devices.presence.when_activated = lambda: self.request_passage(config.direction)
        if self.devices.presence_out is not None:
            self.devices.presence_out.when_activated = lambda: self.request_passage("out")
        if self.devices.override_key is not None:
            self.devices.override_key.when_activated = self.request_override

    # ------------------------------------------------------------------ work

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception:  # the worker is the node's heart: log and keep beating
                log.exception("node job failed")

    def request_passage(self, direction: Direction) -> bool:
        """Presence seen: start a passage unless one is already queued or running."""
        with self._lock:
            if self._pending_passage:
                return False
            self._pending_passage = True
        seen = self.clock()
        self._jobs.put(lambda: self._passage(direction, seen))
        return True

    def _key_turned(self) -> bool:
        key = self.devices.override_key
        return key is not None and bool(key.is_active)

    def request_override(self) -> None:
        """The override key turned: badge, reason and barrier, in turn with passages."""
        self._jobs.put(self._override)

    def _override(self) -> None:
        self.last_passage = self.machine.override()
        self.passages += 1

    @property
    def busy(self) -> bool:
        """A passage is queued or running."""
        with self._lock:
            return self._pending_passage

    def _passage(self, direction: Direction, seen: float) -> None:
        try:
            passage = self.machine.run(direction, seen)
            if passage is not None:  # None: an operator signed in or out
                self.last_passage = passage
                self.passages += 1
        finally:
            with self._lock:
                self._pending_passage = False

    def _call(self, fn: Callable[[], T], timeout_s: float) -> T:
        future: Future[T] = Future()

        def job() -> None:
            try:
                future.set_result(fn())
            except Exception as exc:  # noqa: BLE001 - re-raised in the caller by the future
                future.set_exception(exc)

        self._jobs.put(job)
        try:
            return future.result(timeout_s)
        except TimeoutError:
            raise NodeBusyError(f"node did not run the command within {timeout_s:g}s") from None

    def idle(self, timeout_s: float = 10.0) -> None:
        """Wait until every queued passage and command has run (tests, clean stop)."""
        self._call(lambda: None, timeout_s)

    # ------------------------------------------------------------------ hub commands

    def on_duty(self) -> tuple[str | None, str | None]:
        """The operator signed in and the planned shift now."""
        return self.machine.duty()

    def remeasure(self, timeout_s: float = 30.0) -> Measurement:
        """Hub command ``remeasure``: one checked measurement, emitted as a Reading."""

        def run() -> Measurement:
            m = self.thermometry.measure()
            self.machine.emit_reading(m)
            return m

        return self._call(run, timeout_s)

    def barrier_test(self, timeout_s: float = 60.0) -> BarrierMotion:
        """Hub command ``barrier_test``: one open/close cycle, supervised like any other."""
        return self._call(lambda: self.barrier.cycle(self.config.barrier.open_s), timeout_s)

    # ------------------------------------------------------------------ config push

    def reconfigure(self, config: NodeConfig, timeout_s: float = 30.0) -> bool:
        """Apply a new (validated) config between passages, all of it or nothing.

        Identity and wiring cannot change under a running node: a change there raises
        ConfigError and the old config stays in force (the runtime acks it as refused).
        """
        fixed = {
            "node_id": (self.config.node_id, config.node_id),
            "checkpoint_id": (self.config.checkpoint_id, config.checkpoint_id),
            "ward_id": (self.config.ward_id, config.ward_id),
            "mqtt": (self.config.mqtt, config.mqtt),
            "pins": (self.config.pins, config.pins),
            "thermometer.i2c_bus": (self.config.thermometer.i2c_bus, config.thermometer.i2c_bus),
            "thermometer.address": (self.config.thermometer.address, config.thermometer.address),
            "camera": (self.config.camera, config.camera),
            "scanner.wedge_device": (
                self.config.scanner.wedge_device,
                config.scanner.wedge_device,
            ),
        }
        changed = [name for name, (old, new) in fixed.items() if old != new]
        if changed:
            raise ConfigError(f"{', '.join(changed)} cannot change without a restart")

        def apply() -> None:
            self.thermometry.reconfigure(config.thermometer)
            self.barrier.config = config.barrier
            self.signals.config = config.signals
            self.scanner.reconfigure(config.scanner)
            self.health_sampler.reconfigure(config.health)
            self.machine.config = config
            self.machine.passback.config = config.anti_passback
            self.config = config
            log.info("config %s applied (zone level %s)", config.version, config.zone_level)

        self._call(apply, timeout_s)
        return True

    # ------------------------------------------------------------------ health

    def sensor_errors(self) -> dict[str, int]:
        counts = {**self.thermometry.error_counts(), **self.scanner.errors}
        counts["pass_verifier"] = self.machine.verifier_errors
        if self.wedge is not None:
            counts["wedge"] = self.wedge.errors
        return counts

    def flags(self) -> list[str]:
        flags = []
        if self.thermometry.faulty:
            flags.append("thermometer_fault")
        if self.camera_fault is not None or self.scanner.camera_fault is not None:
            flags.append("camera_fault")
        flags.extend(f"barrier_{kind.value}" for kind in self.barrier.active)
        return flags

    def health(
        self,
        *,
        outbox_depth: int = 0,
        outbox_dropped: int = 0,
        extra_flags: Sequence[str] = (),
        levels_version: int | None = None,
        policy_version: int | None = None,
    ) -> Health:
        """Emit one Health event now, with the outbox figures, flags and document versions
        the runtime knows."""
        return self.health_sampler.sample(
            outbox_depth=outbox_depth,
            outbox_dropped=outbox_dropped,
            extra_flags=extra_flags,
            levels_version=levels_version,
            policy_version=policy_version,
        )

    def close(self) -> None:
        self.health_sampler.stop()
        self.devices.presence.when_activated = None
        if self.devices.presence_out is not None:
            self.devices.presence_out.when_activated = None
        if self.devices.override_key is not None:
            self.devices.override_key.when_activated = None
        self._jobs.put(None)
        self._worker.join(timeout=30.0)
        self.barrier.close()
        if self.frame_source is not None:
            self.frame_source.close()
        self.devices.close()
