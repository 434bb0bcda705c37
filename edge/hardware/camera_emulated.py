"""A frame source off a Pi: real QR images drawn into 640x480 grayscale camera frames.

What the camera would see when someone holds a phone or a paper pass up to it: a QR code
(made by segno) somewhere in the frame, a little smaller or larger, on a noisy grey
background. The real decoder then runs on it. ``damage()`` scratches part of the code so
that the decoder finds it but cannot read it, like a cracked phone screen.
"""

from __future__ import annotations

import random
import threading
import time

import numpy as np
import segno

from edge.hardware.camera import Frame


def render_qr(text: str, module_px: int = 4, border: int = 4) -> Frame:
    """The QR code for ``text`` as a black-on-white uint8 image."""
    qr = segno.make(text, error="m", micro=False)
    modules = np.array(qr.matrix, dtype=bool)
    modules = np.pad(modules, border, constant_values=False)
    img = np.where(modules, 0, 255).astype(np.uint8)
    return np.kron(img, np.ones((module_px, module_px), dtype=np.uint8))


class RenderedQRFrameSource:
    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        *,
        noise: float = 6.0,
        seed: int = 0,
        fps: float | None = None,
    ) -> None:
        """``fps``: pace ``read()`` like a real camera does (None: as fast as asked)."""
        self.fps = fps
        self._next_frame = 0.0
        self.width = width
        self.height = height
        self.noise = noise
        self._rng = random.Random(seed)
        self._np_rng = np.random.default_rng(seed)
        self._lock = threading.Lock()
        self._shown: Frame | None = None
        self.frames = 0
        self.history: list[str | None] = []  # what was held up, in order

    def show(self, text: str, module_px: int | None = None) -> None:
        """Someone holds a pass with ``text`` up to the camera."""
        qr = render_qr(text, module_px or self._rng.choice((3, 4, 5)))
        if qr.shape[0] > self.height or qr.shape[1] > self.width:
            qr = render_qr(text, 2)
        with self._lock:
            self._shown = qr
            self.history.append(text)

    def damage(self, fraction: float = 0.2) -> None:
        """Blot out a band of the code shown now (finder patterns survive, data does not)."""
        with self._lock:
            if self._shown is None:
                return
            img = self._shown.copy()
            h = img.shape[0]
            top, bottom = int(h * (0.5 - fraction / 2)), int(h * (0.5 + fraction / 2))
            band = img[top:bottom, :]
            band[:, :] = np.where(self._np_rng.random(band.shape) < 0.5, 0, 255)
            self._shown = img

    def clear(self) -> None:
        with self._lock:
            self._shown = None
            self.history.append(None)

    def read(self) -> Frame:
        if self.fps:
            # A camera blocks until its next frame; without this a reader would spin a core.
            now = time.monotonic()
            if self._next_frame > now:
                time.sleep(self._next_frame - now)
            self._next_frame = max(now, self._next_frame) + 1.0 / self.fps
        with self._lock:
            shown = self._shown
            self.frames += 1
        base = self._np_rng.normal(128, self.noise, (self.height, self.width))
        frame = np.clip(base, 0, 255).astype(np.uint8)
        if shown is not None:
            h, w = shown.shape
            y = self._rng.randint(0, self.height - h)
            x = self._rng.randint(0, self.width - w)
            patch = shown.astype(np.int16) + self._np_rng.normal(0, self.noise, shown.shape)
            frame[y : y + h, x : x + w] = np.clip(patch, 0, 255).astype(np.uint8)
        return frame

    def close(self) -> None:
        pass
