"""Camera frame sources: picamera2 on a Pi, anything with ``read()`` elsewhere.

A frame is a 2-D uint8 numpy array (grayscale), what the QR decoder wants. The Pi source
imports picamera2 only when it is built, so the same code runs off a Pi. numpy is named
here for the type checker only: picamera2 (or the emulated camera) brings it, and a node
without a camera does not load it (numpy alone takes a third of its memory budget).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from checkpoint.contract.node.config import CameraConfig
from checkpoint.errors import CheckpointError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

Frame: TypeAlias = "npt.NDArray[np.uint8]"


class CameraError(CheckpointError, OSError):
    """The camera could not be opened or stopped delivering frames."""


class FrameSource(Protocol):
    def read(self) -> Frame | None:
        """The latest frame, or None if there is none yet."""
        ...

    def close(self) -> None: ...


class Picamera2Source:
    """The Pi camera through picamera2 (Raspberry Pi OS's python3-picamera2)."""

    def __init__(self, config: CameraConfig) -> None:
        try:
            from picamera2 import Picamera2  # noqa: PLC0415 - from apt (python3-picamera2) on a Pi only
        except ImportError as exc:
            raise CameraError(
                f"camera enabled but picamera2 is not importable ({exc}); install "
                "python3-picamera2 and make the venv with --system-site-packages"
            ) from None
        try:
            self._camera: Any = Picamera2()
            # YUV420's first plane is the luminance: grayscale for free, no conversion.
            cfg = self._camera.create_video_configuration(
                main={"size": (config.width, config.height), "format": "YUV420"},
                controls={"FrameRate": config.fps},
            )
            self._camera.configure(cfg)
            self._camera.start()
        except Exception as exc:  # noqa: BLE001 - libcamera raises many types; one error out
            raise CameraError(f"cannot start the camera: {exc}") from None
        self._height = config.height

    def read(self) -> Frame | None:
        try:
            yuv: Frame = self._camera.capture_array("main")
        except Exception as exc:  # noqa: BLE001 - as above, for a camera lost mid-run
            raise CameraError(f"camera capture failed: {exc}") from None
        return yuv[: self._height]

    def close(self) -> None:
        self._camera.stop()
        self._camera.close()


class FrameRate:
    """Frames per second over the last few seconds, for the health event."""

    def __init__(self, window_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def tick(self) -> None:
        with self._lock:
            now = self.clock()
            self._times.append(now)
            self._trim(now)

    def _trim(self, now: float) -> None:
        while self._times and self._times[0] < now - self.window_s:
            self._times.popleft()

    def fps(self) -> float | None:
        with self._lock:
            self._trim(self.clock())
            if len(self._times) < 2:
                return None
            span = self._times[-1] - self._times[0]
            return round((len(self._times) - 1) / span, 2) if span > 0 else None
