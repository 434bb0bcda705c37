"""A USB keyboard-wedge scanner: it "types" the code and presses Enter.

Set up in keyboard mode on a serial/tty line or read from a text stream, each line is one
scan. The reader checks the line before anything trusts it: control characters, an
over-long line or undecodable bytes make an unreadable scan, not an exception.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from edge.hardware.qr_decode import Scan
from edge.hardware.wedge_evdev import open_evdev

log = logging.getLogger(__name__)


class LineStream(Protocol):
    """What the reader needs: a binary stream's ``readline`` (a tty, a pipe, EvdevLines)."""

    def readline(self, limit: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def parse_line(raw: bytes, max_chars: int) -> Scan | None:
    """One wedge line as a scan; None for an empty line (a stray Enter)."""
    line = raw.rstrip(b"\r\n")
    if not line.strip():
        return None
    if len(line) > max_chars:
        return Scan(text=None, error=f"wedge input longer than {max_chars} chars", source="wedge")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return Scan(text=None, error="wedge input is not UTF-8", source="wedge")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return Scan(text=None, error="wedge input has control characters", source="wedge")
    return Scan(text=text, source="wedge")


class WedgeReader:
    """Reads lines from ``stream`` in its own thread and hands each scan to ``on_scan``."""

    def __init__(
        self, stream: LineStream, on_scan: Callable[[Scan], None], max_chars: int = 2048
    ) -> None:
        self.stream = stream
        self.on_scan = on_scan
        self.max_chars = max_chars
        self.errors = 0
        self._thread = threading.Thread(target=self._run, name="wedge", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._read_lines()
        finally:
            self.stream.close()  # EOF or error: the device is gone; do not leak the handle

    def _read_lines(self) -> None:
        while True:
            try:
                # Bound the line: a scanner stuck "typing" must not grow memory forever.
                raw = self.stream.readline(self.max_chars * 4 + 2)
            except (OSError, ValueError) as exc:  # ValueError: the stream was closed
                log.warning("wedge scanner stopped: %s", exc)
                self.errors += 1
                return
            if not raw:
                return  # end of stream: the device went away
            if not raw.endswith(b"\n") and len(raw) > self.max_chars:
                self._drain_rest()
            scan = parse_line(raw, self.max_chars)
            if scan is not None:
                self.on_scan(scan)

    def _drain_rest(self) -> None:
        while True:
            chunk = self.stream.readline(4096)
            if not chunk or chunk.endswith(b"\n"):
                return

    def join(self, timeout_s: float | None = None) -> None:
        self._thread.join(timeout_s)


def open_wedge(path: str) -> LineStream:
    """Open a wedge scanner: an input device (/dev/input/...) as a keyboard, anything
    else (a tty in serial mode, a FIFO) as lines."""
    if path.startswith("/dev/input/"):
        return open_evdev(path)
    return open(path, "rb")  # WedgeReader reads it for the node's lifetime
