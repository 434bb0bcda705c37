"""The keyboard-wedge scanner's line parsing and reader, and de-duplication."""

from __future__ import annotations

import io
import os
import threading

from edge.hardware.dedup import Deduplicator
from edge.hardware.qr_decode import Scan
from edge.hardware.wedge import WedgeReader, parse_line


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
