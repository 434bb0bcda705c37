"""A USB keyboard-wedge scanner read as a Linux input device (/dev/input/event*).

Most wedge scanners are plain USB keyboards: the kernel sees key presses, not text. This
turns their evdev key events back into lines (US layout, what scanners type by default)
so that WedgeReader reads them like a tty. The device is grabbed (EVIOCGRAB) so the
"typed" codes do not also land on the Pi's console. No evdev package is needed: the
input_event struct is read directly.
"""

from __future__ import annotations

import fcntl
import struct
from typing import BinaryIO

# struct input_event { struct timeval time; __u16 type; __u16 code; __s32 value; }
EVENT = struct.Struct("llHHi")
EV_KEY = 0x01
KEY_DOWN, KEY_REPEAT = 1, 2
KEY_ENTER, KEY_KPENTER = 28, 96
SHIFTS = {42, 54}  # KEY_LEFTSHIFT, KEY_RIGHTSHIFT
EVIOCGRAB = 0x40044590

# Linux key codes -> (unshifted, shifted) characters, US layout.
_ROWS = {
    2: "1!", 3: "2@", 4: "3#", 5: "4$", 6: "5%", 7: "6^", 8: "7&", 9: "8*", 10: "9(",
    11: "0)", 12: "-_", 13: "=+", 16: "qQ", 17: "wW", 18: "eE", 19: "rR", 20: "tT",
    21: "yY", 22: "uU", 23: "iI", 24: "oO", 25: "pP", 26: "[{", 27: "]}", 30: "aA",
    31: "sS", 32: "dD", 33: "fF", 34: "gG", 35: "hH", 36: "jJ", 37: "kK", 38: "lL",
    39: ";:", 40: "'\"", 41: "`~", 43: "\\|", 44: "zZ", 45: "xX", 46: "cC", 47: "vV",
    48: "bB", 49: "nN", 50: "mM", 51: ",<", 52: ".>", 53: "/?", 57: "  ",
}  # fmt: skip
KEYMAP: dict[int, tuple[str, str]] = {code: (pair[0], pair[1]) for code, pair in _ROWS.items()}
UNKNOWN = "\x1a"  # a key we cannot map: SUB makes the line unreadable, never a wrong pass


class EvdevLines:
    """A line-reading view of an evdev device: ``readline()`` like a binary stream."""

    def __init__(self, device: BinaryIO, *, grab: bool = True) -> None:
        self.device = device
        self._shift = False
        if grab:
            fcntl.ioctl(device.fileno(), EVIOCGRAB, 1)

    def _next_key(self) -> tuple[int, int] | None:
        while True:
            raw = self.device.read(EVENT.size)
            if len(raw) < EVENT.size:
                return None  # device gone
            _sec, _usec, kind, code, value = EVENT.unpack(raw)
            if kind == EV_KEY:
                return code, value

    def readline(self, limit: int = -1) -> bytes:
        chars: list[str] = []
        while limit < 0 or len(chars) < limit:
            key = self._next_key()
            if key is None:
                break
            code, value = key
            if code in SHIFTS:
                self._shift = value != 0
                continue
            if value not in (KEY_DOWN, KEY_REPEAT):
                continue
            if code in (KEY_ENTER, KEY_KPENTER):
                chars.append("\n")
                break
            pair = KEYMAP.get(code)
            chars.append(pair[self._shift] if pair else UNKNOWN)
        return "".join(chars).encode()

    def close(self) -> None:
        self.device.close()


def open_evdev(path: str) -> EvdevLines:
    return EvdevLines(open(path, "rb", buffering=0))  # EvdevLines owns and closes it
