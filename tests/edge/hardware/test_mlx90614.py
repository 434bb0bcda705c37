"""The real driver against the emulated part: real register bytes, real PEC."""

from __future__ import annotations

import pytest

from edge.hardware.mlx90614 import (
    EE_EMISSIVITY,
    MLX90614,
    RAM_OBJECT1,
    ThermometerError,
    celsius_to_raw,
)
from edge.hardware.mlx90614_emulated import EmulatedMLX90614
from edge.hardware.smbus import crc8
from edge.thermometry import measure


def test_crc8_matches_the_datasheet_example() -> None:
    # MLX90614 datasheet, SMBus read example: SA=0x5A, command 0x07, data 0x3AD2 -> PEC 0x30
    assert crc8([0xB4, 0x07, 0xB5, 0xD2, 0x3A]) == 0x30


def test_reads_object_and_ambient() -> None:
    part = EmulatedMLX90614(object_c=36.6, ambient_c=27.0)
    sensor = MLX90614(part)
    assert sensor.object_c() == pytest.approx(36.6, abs=0.02)
    assert sensor.ambient_c() == pytest.approx(27.0, abs=0.02)
    op, register, reply = part.history[0]
    raw = celsius_to_raw(36.6)
    assert (op, register, reply[:2]) == ("read", RAM_OBJECT1, (raw & 0xFF, raw >> 8))


def test_bus_errors_are_retried() -> None:
    part = EmulatedMLX90614(object_c=36.0)
    part.faults.bus_errors = 2
    sensor = MLX90614(part, retries=3, retry_delay_s=0)
    assert sensor.object_c() == pytest.approx(36.0, abs=0.02)
    assert sensor.errors["bus"] == 2


def test_bad_pec_is_never_trusted() -> None:
    part = EmulatedMLX90614(object_c=36.0)
    part.faults.bad_pec = 10
    sensor = MLX90614(part, retries=2, retry_delay_s=0)
    with pytest.raises(ThermometerError, match="PEC mismatch"):
        sensor.object_c()
    assert sensor.errors["pec"] == 3


def test_error_flag_refuses_the_reading() -> None:
    part = EmulatedMLX90614()
    part.faults.stuck_raw = 0x8000 | celsius_to_raw(36.0)
    with pytest.raises(ThermometerError, match="flagged"):
        MLX90614(part).object_c()


def test_emissivity_is_written_with_erase_first() -> None:
    part = EmulatedMLX90614()
    sensor = MLX90614(part)
    sensor.set_emissivity(0.98)
    assert sensor.emissivity() == pytest.approx(0.98, abs=0.001)
    writes = [h for h in part.history if h[0] == "write"]
    assert [w[1] for w in writes] == [EE_EMISSIVITY, EE_EMISSIVITY]
    assert writes[0][2][:2] == (0, 0)
    sensor.set_emissivity(0.98)  # same value: no EEPROM wear
    assert len([h for h in part.history if h[0] == "write"]) == 2


def test_measurement_averages_and_reports_spread() -> None:
    part = EmulatedMLX90614(object_c=36.5)
    part.faults.drift_c_per_read = 0.1
    m = measure(MLX90614(part), samples=5)
    assert m.samples == 5
    assert m.object_c == pytest.approx(36.8, abs=0.03)
    assert m.spread_c == pytest.approx(0.4, abs=0.03)
