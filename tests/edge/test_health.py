"""Health events: uptime, CPU temperature from sysfs, disk, outbox figures, flags."""

from __future__ import annotations

from pathlib import Path

from checkpoint import __version__
from checkpoint.contract.models import Health
from edge.events import MemoryEmitter
from edge.health import HealthSampler, cpu_temperature_c
from tests.helpers import wait_for


def test_cpu_temperature_from_sysfs(tmp_path: Path) -> None:
    zone = tmp_path / "temp"
    zone.write_text("48312\n")
    assert cpu_temperature_c(zone) == 48.3
    assert cpu_temperature_c(tmp_path / "missing") is None
    zone.write_text("garbage")
    assert cpu_temperature_c(zone) is None


def test_a_sample_carries_what_each_part_knows(tmp_path: Path, emitter: MemoryEmitter) -> None:
    zone = tmp_path / "temp"
    zone.write_text("51000")
    now = [1000.0]
    sampler = HealthSampler(
        emitter,
        config_version=lambda: "2026-11-22.1",
        outbox_depth=lambda: 12,
        outbox_dropped=lambda: 3,
        camera_fps=lambda: 14.9,
        sensor_errors=lambda: {"thermometer_bus": 2},
        flags=lambda: ["thermometer_fault"],
        disk_path=str(tmp_path),
        disk_low_bytes=0,
        thermal_path=zone,
        clock=lambda: now[0],
    )
    now[0] += 90.5
    health = sampler.sample()
    assert emitter.events == [health]
    assert health.uptime_s == 90.5
    assert health.cpu_temp_c == 51.0
    assert health.disk_free_bytes > 0
    assert (health.outbox_depth, health.outbox_dropped) == (12, 3)
    assert health.camera_fps == 14.9
    assert health.sensor_errors == {"thermometer_bus": 2}
    assert health.config_version == "2026-11-22.1"
    assert health.software_version == __version__
    assert health.flags == ["thermometer_fault"]


def test_low_and_unreadable_disk_are_flags(tmp_path: Path, emitter: MemoryEmitter) -> None:
    low = HealthSampler(
        emitter, config_version=lambda: "1", disk_path=str(tmp_path), disk_low_bytes=2**62
    )
    assert "disk_low" in low.sample().flags
    gone = HealthSampler(emitter, config_version=lambda: "1", disk_path=str(tmp_path / "nope"))
    health = gone.sample()
    assert health.disk_free_bytes == 0
    assert "disk_unreadable" in health.flags


def test_periodic_health(emitter: MemoryEmitter) -> None:
    sampler = HealthSampler(emitter, config_version=lambda: "1")
    sampler.start(0.05)
    try:
        wait_for(lambda: len(emitter.events) >= 2, timeout_s=5, what="two health events")
    finally:
        sampler.stop()
    assert all(isinstance(e, Health) for e in emitter.events)
