"""Melexis MLX90614 infrared thermometer over SMBus, with PEC checked on every word.

Register map (datasheet rev. 13): RAM 0x06 ambient, 0x07 object 1; EEPROM (command
0x20 | address) 0x04 emissivity. A read returns LSB, MSB, PEC, where PEC is CRC-8 over
the whole transaction: SA<<1, command, SA<<1|1, LSB, MSB. Temperatures are in units of
0.02 K; bit 15 of an object reading is the sensor's own error flag.
"""

from __future__ import annotations

import time
from typing import Final

from checkpoint.errors import CheckpointError
from edge.hardware.smbus import SMBusLike, crc8

DEFAULT_ADDRESS: Final = 0x5A
RAM_AMBIENT: Final = 0x06
RAM_OBJECT1: Final = 0x07
EEPROM: Final = 0x20
EE_EMISSIVITY: Final = EEPROM | 0x04


class ThermometerError(CheckpointError, OSError):
    """The thermometer did not give a trustworthy value after all retries."""


def raw_to_celsius(raw: int) -> float:
    return round(raw * 0.02 - 273.15, 2)


def celsius_to_raw(celsius: float) -> int:
    return round((celsius + 273.15) / 0.02)


class MLX90614:
    def __init__(
        self,
        bus: SMBusLike,
        address: int = DEFAULT_ADDRESS,
        *,
        retries: int = 3,
        retry_delay_s: float = 0.005,
        timeout_s: float = 0.25,
    ) -> None:
        self.bus = bus
        self.address = address
        self.retries = retries
        self.retry_delay_s = retry_delay_s
        self.timeout_s = timeout_s
        self.errors: dict[str, int] = {"bus": 0, "pec": 0, "flag": 0}

    def _read_word(self, command: int) -> int:
        deadline = time.monotonic() + self.timeout_s
        last = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt and time.monotonic() > deadline:
                break
            try:
                lsb, msb, pec = self.bus.read_i2c_block_data(self.address, command, 3)
            except OSError as exc:
                self.errors["bus"] += 1
                last = f"I2C error: {exc}"
            else:
                addr_w = self.address << 1
                expected = crc8([addr_w, command, addr_w | 1, lsb, msb])
                if pec == expected:
                    return (msb << 8) | lsb
                self.errors["pec"] += 1
                last = f"PEC mismatch (got 0x{pec:02x}, expected 0x{expected:02x})"
            time.sleep(self.retry_delay_s)
        raise ThermometerError(f"MLX90614 at 0x{self.address:02x}, command 0x{command:02x}: {last}")

    def _write_word(self, command: int, value: int) -> None:
        lsb, msb = value & 0xFF, value >> 8
        pec = crc8([self.address << 1, command, lsb, msb])
        try:
            self.bus.write_i2c_block_data(self.address, command, [lsb, msb, pec])
        except OSError as exc:
            self.errors["bus"] += 1
            raise ThermometerError(f"MLX90614 write 0x{command:02x}: {exc}") from None

    def ambient_c(self) -> float:
        return raw_to_celsius(self._read_word(RAM_AMBIENT))

    def object_c(self) -> float:
        raw = self._read_word(RAM_OBJECT1)
        if raw & 0x8000:
            self.errors["flag"] += 1
            raise ThermometerError("MLX90614 flagged its object reading as invalid")
        return raw_to_celsius(raw)

    def emissivity(self) -> float:
        return round(self._read_word(EE_EMISSIVITY) / 65535, 3)

    def set_emissivity(self, value: float) -> None:
        """EEPROM write as the datasheet asks: erase (write 0), wait, write, wait."""
        if not 0.1 <= value <= 1.0:
            raise ValueError(f"emissivity {value} outside 0.1..1.0")
        target = round(value * 65535)
        if self._read_word(EE_EMISSIVITY) == target:
            return  # EEPROM has ~100k write cycles: do not wear it on every boot
        self._write_word(EE_EMISSIVITY, 0)
        time.sleep(0.01)
        self._write_word(EE_EMISSIVITY, target)
        time.sleep(0.01)
