"""Waiting for a pass: the camera's frames and the keyboard-wedge scanner, de-duplicated.

The camera is read only while a passage waits for a pass (two cores, shared with
everything else). A code the decoder locates but cannot read in several frames in a row
is an unreadable pass; one bad frame (motion blur) is not.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable

from checkpoint.contract.node.config import ScannerConfig
from edge.hardware.camera import CameraError, FrameRate, FrameSource
from edge.hardware.dedup import Deduplicator
from edge.hardware.qr_decode import Scan, decode_frame

log = logging.getLogger(__name__)

UNREADABLE_FRAMES = 3  # consecutive frames with an undecodable code before giving up


class PassScanner:
    def __init__(
        self,
        frame_source: FrameSource | None,
        dedup: Deduplicator,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.frame_source = frame_source
        self.dedup = dedup
        self.clock = clock
        self.fps = FrameRate(clock=clock)
        self.errors: dict[str, int] = {"camera": 0, "qr_unreadable": 0, "duplicates": 0}
        self.camera_fault: str | None = None
        self._wedge: queue.Queue[tuple[float, Scan]] = queue.Queue(maxsize=64)

    def reconfigure(self, config: ScannerConfig) -> None:
        self.dedup.window_s = config.dedup_window_s

    def feed(self, scan: Scan) -> None:
        """A wedge scan (from the reader thread); kept until a passage asks for a pass."""
        if scan.text is not None and not self.dedup.first(scan.text):
            self.errors["duplicates"] += 1
            return
        try:
            self._wedge.put_nowait((self.clock(), scan))
        except queue.Full:
            log.warning("wedge scans pile up with nobody at the post; dropping one")

    def _take_wedge(self, wait_s: float, max_age_s: float) -> Scan | None:
        try:
            at, scan = self._wedge.get(timeout=wait_s) if wait_s > 0 else self._wedge.get_nowait()
        except queue.Empty:
            return None
        # A scan left over from long ago belongs to nobody standing here now.
        return scan if self.clock() - at <= max_age_s else None

    def _camera_scan(self) -> tuple[Scan | None, bool]:
        """What the camera sees now, and whether there was a frame at all."""
        if self.frame_source is None:
            return None, False
        try:
            frame = self.frame_source.read()
        except CameraError as exc:
            self.errors["camera"] += 1
            if self.camera_fault is None:
                log.error("%s", exc)
            self.camera_fault = str(exc)
            return None, False
        self.camera_fault = None
        if frame is None:
            return None, False
        self.fps.tick()
        return decode_frame(frame), True

    def wait_for_pass(self, timeout_s: float) -> Scan | None:
        """The first new code within ``timeout_s`` (readable or not); None if none came."""
        deadline = self.clock() + timeout_s
        unreadable = 0
        duplicate_counted = False
        while True:
            scan = self._take_wedge(0.0, timeout_s)
            if scan is not None:
                return self._counted(scan)
            scan, had_frame = self._camera_scan()
            if scan is not None and scan.text is not None:
                unreadable = 0
                if self.dedup.first(scan.text):
                    return scan
                if not duplicate_counted:  # once per wait, not once per frame
                    duplicate_counted = True
                    self.errors["duplicates"] += 1
            elif scan is not None:
                unreadable += 1
                if unreadable >= UNREADABLE_FRAMES:
                    return self._counted(scan)
            else:
                unreadable = 0
            remaining = deadline - self.clock()
            if remaining <= 0:
                return None
            if not had_frame:
                # No camera, a failed one, or no frame yet: wait on the wedge, do not spin.
                pause = 0.25 if self.frame_source is None else 0.02
                scan = self._take_wedge(min(remaining, pause), timeout_s)
                if scan is not None:
                    return self._counted(scan)

    def _counted(self, scan: Scan) -> Scan:
        if scan.text is None:
            self.errors["qr_unreadable"] += 1
            log.warning("unreadable pass (%s): %s", scan.source, scan.error)
        return scan
