"""Waiting for a pass when the camera misbehaves: the wedge still works, nothing spins."""

from __future__ import annotations

from edge.hardware.camera import CameraError, Frame
from edge.hardware.dedup import Deduplicator
from edge.hardware.qr_decode import Scan
from edge.passage.scanner import PassScanner


class BrokenCamera:
    """A camera whose ribbon cable came loose: every read fails."""

    def __init__(self) -> None:
        self.reads = 0

    def read(self) -> Frame | None:
        self.reads += 1
        raise CameraError("camera capture failed: timed out waiting for a frame")

    def close(self) -> None:
        pass


class NoFramesYet:
    def __init__(self) -> None:
        self.reads = 0

    def read(self) -> Frame | None:
        self.reads += 1
        return None

    def close(self) -> None:
        pass


def test_a_broken_camera_is_a_fault_and_the_wedge_still_scans() -> None:
    camera = BrokenCamera()
    scanner = PassScanner(camera, Deduplicator(3.0))
    assert scanner.wait_for_pass(0.2) is None
    assert scanner.camera_fault is not None
    assert "timed out" in scanner.camera_fault
    assert scanner.errors["camera"] == camera.reads
    assert camera.reads < 30  # waited on the wedge between tries, did not spin
    scanner.feed(Scan(text="GZA:abc", source="wedge"))
    scan = scanner.wait_for_pass(0.2)
    assert scan is not None
    assert scan.text == "GZA:abc"


def test_a_camera_without_frames_does_not_spin() -> None:
    camera = NoFramesYet()
    scanner = PassScanner(camera, Deduplicator(3.0))
    assert scanner.wait_for_pass(0.2) is None
    assert camera.reads < 30
    assert scanner.fps.fps() is None


def test_a_repeated_wedge_scan_is_dropped_at_once() -> None:
    scanner = PassScanner(None, Deduplicator(3.0))
    scanner.feed(Scan(text="GZA:abc", source="wedge"))
    scanner.feed(Scan(text="GZA:abc", source="wedge"))
    assert scanner.wait_for_pass(0.1) is not None
    assert scanner.wait_for_pass(0.1) is None
    assert scanner.errors["duplicates"] == 1
