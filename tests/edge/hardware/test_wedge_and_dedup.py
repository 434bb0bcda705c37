"""The keyboard-wedge scanner's line parsing and reader, and de-duplication."""

from __future__ import annotations

import io
import os
import threading

from edge.hardware.dedup import Deduplicator
from edge.hardware.qr_decode import Scan
from edge.hardware.wedge import WedgeReader, parse_line
from edge.hardware.wedge_evdev import EV_KEY, EVENT, KEY_ENTER, KEYMAP, EvdevLines


def test_lines_become_scans() -> None:
    assert parse_line(b"GZA:abc\r\n", 64) == Scan(text="GZA:abc", source="wedge")
    assert parse_line(b"\r\n", 64) is None  # a stray Enter is nothing


def test_bad_lines_are_unreadable_not_errors() -> None:
    for raw, why in [
        (b"GZA:\x1b[A\n", "control"),
        (b"\xff\xfe\n", "UTF-8"),
        (b"A" * 100 + b"\n", "longer"),
    ]:
        scan = parse_line(raw, 64)
        assert scan is not None
        assert scan.text is None
        assert scan.error is not None
        assert why in scan.error


def test_reader_hands_over_each_line_and_survives_an_endless_one() -> None:
    got: list[Scan] = []
    data = b"GZA:one\n" + b"Z" * 10_000 + b"\nGZA:two\r\n"
    reader = WedgeReader(io.BytesIO(data), got.append, max_chars=64)
    reader.join(5)
    assert [s.text for s in got] == ["GZA:one", None, "GZA:two"]


def test_reader_on_a_pipe_like_a_tty() -> None:
    read_fd, write_fd = os.pipe()
    got: list[Scan] = []
    arrived = threading.Event()

    def on_scan(scan: Scan) -> None:
        got.append(scan)
        arrived.set()

    with os.fdopen(read_fd, "rb") as stream:
        reader = WedgeReader(stream, on_scan)
        os.write(write_fd, b"GZA:abc\r\n")
        assert arrived.wait(5)
        os.close(write_fd)  # unplugged: the reader ends instead of spinning
        reader.join(5)
    assert [s.text for s in got] == ["GZA:abc"]


def test_dedup_window_with_an_injected_clock() -> None:
    now = [100.0]
    dedup = Deduplicator(3.0, clock=lambda: now[0])
    assert dedup.first("A")
    now[0] += 1.0
    assert not dedup.first("A")  # again within 3 s: counts once
    assert dedup.first("B")
    now[0] += 2.5
    assert not dedup.first("A")  # each sighting renews: a pass held up stays one scan
    now[0] += 3.0
    assert dedup.first("A")
    assert dedup.suppressed == 2


def key_events(text: str) -> bytes:
    """What the kernel reports when a USB wedge scanner types ``text`` and Enter."""
    by_char = {c: (code, i == 1) for code, pair in KEYMAP.items() for i, c in enumerate(pair)}
    out = b""

    def key(code: int, value: int) -> bytes:
        sync = EVENT.pack(0, 0, 0, 0, 0)  # EV_SYN between reports, as real devices send
        return EVENT.pack(1, 2, EV_KEY, code, value) + EVENT.pack(1, 2, 4, 4, 458792) + sync

    for ch in text:
        code, shifted = by_char[ch]
        if shifted:
            out += key(42, 1)
        out += key(code, 1) + key(code, 0)
        if shifted:
            out += key(42, 0)
    return out + key(KEY_ENTER, 1) + key(KEY_ENTER, 0)


def test_an_evdev_keyboard_scanner_types_lines() -> None:
    data = key_events("GZA:phucla-cp07_res001") + key_events("gza:x")
    lines = EvdevLines(io.BytesIO(data), grab=False)
    assert lines.readline(100) == b"GZA:phucla-cp07_res001\n"
    assert lines.readline(100) == b"gza:x\n"
    assert lines.readline(100) == b""  # unplugged


def test_evdev_scans_reach_the_reader_and_unknown_keys_are_unreadable() -> None:
    data = key_events("GZA:abc") + EVENT.pack(0, 0, EV_KEY, 59, 1) + key_events("")  # F1
    got: list[Scan] = []
    WedgeReader(EvdevLines(io.BytesIO(data), grab=False), got.append).join(5)
    assert [s.text for s in got] == ["GZA:abc", None]
