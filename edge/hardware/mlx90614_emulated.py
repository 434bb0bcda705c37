"""An emulated MLX90614 that answers with the real register map and real PEC bytes.

It implements the SMBus calls the driver makes, so tests and the simulator run the
driver's real code. It can be told to fail the way a real part in the field does: bus
errors (a loose wire), corrupted PEC (noise), a stuck value, drift.
"""

from __future__ import annotations

import errno
import random
from dataclasses import dataclass, field

from edge.hardware.mlx90614 import (
    DEFAULT_ADDRESS,
    EE_EMISSIVITY,
    EEPROM,
    RAM_AMBIENT,
    RAM_OBJECT1,
    celsius_to_raw,
)
from edge.hardware.smbus import crc8


@dataclass
class Faults:
    bus_errors: int = 0  # fail the next N transactions with EREMOTEIO (NACK)
    bad_pec: int = 0  # corrupt the PEC of the next N reads
    stuck_raw: int | None = None  # answer this object value whatever the target does
    drift_c_per_read: float = 0.0  # add this much to every object reading, cumulatively


@dataclass
class EmulatedMLX90614:
    address: int = DEFAULT_ADDRESS
    object_c: float = 33.5  # what the sensor "sees": skin of a person, or the background
    ambient_c: float = 27.0
    noise_c: float = 0.0
    seed: int = 0
    faults: Faults = field(default_factory=Faults)
    history: list[tuple[str, int, tuple[int, ...]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._drift = 0.0
        self.eeprom: dict[int, int] = {
            EEPROM | 0x00: 0x9993,  # To max
            EEPROM | 0x01: 0x62E3,  # To min
            EEPROM | 0x02: 0x0201,  # PWM control
            EEPROM | 0x03: 0xF71C,  # Ta range
            EE_EMISSIVITY: 0xFFFF,  # emissivity 1.0
            EEPROM | 0x05: 0x9FB4,  # config register 1
            EEPROM | 0x0E: self.address,  # SMBus address
        }

    def _ram(self, command: int) -> int:
        if command == RAM_AMBIENT:
            return celsius_to_raw(self.ambient_c)
        if command == RAM_OBJECT1:
            if self.faults.stuck_raw is not None:
                return self.faults.stuck_raw
            self._drift += self.faults.drift_c_per_read
            noise = self._rng.gauss(0.0, self.noise_c) if self.noise_c else 0.0
            return celsius_to_raw(self.object_c + self._drift + noise)
        if command in (0x04, 0x05, 0x08):  # raw IR channels, object 2: not modelled
            return 0
        raise OSError(errno.EIO, f"MLX90614 has no RAM register 0x{command:02x}")

    def _nack_if_needed(self, i2c_addr: int) -> None:
        if i2c_addr != self.address:
            raise OSError(errno.ENXIO, f"no device at 0x{i2c_addr:02x}")
        if self.faults.bus_errors > 0:
            self.faults.bus_errors -= 1
            raise OSError(errno.EREMOTEIO, "Remote I/O error")

    def read_i2c_block_data(
        self, i2c_addr: int, register: int, length: int, force: bool | None = None
    ) -> list[int]:
        self._nack_if_needed(i2c_addr)
        word = self.eeprom.get(register, 0) if register & EEPROM else self._ram(register)
        lsb, msb = word & 0xFF, (word >> 8) & 0xFF
        pec = crc8([self.address << 1, register, (self.address << 1) | 1, lsb, msb])
        if self.faults.bad_pec > 0:
            self.faults.bad_pec -= 1
            pec ^= 0x5A
        reply = [lsb, msb, pec][:length]
        self.history.append(("read", register, tuple(reply)))
        return reply

    def write_i2c_block_data(
        self, i2c_addr: int, register: int, data: list[int], force: bool | None = None
    ) -> None:
        self._nack_if_needed(i2c_addr)
        self.history.append(("write", register, tuple(data)))
        if len(data) != 3 or not register & EEPROM:
            raise OSError(errno.EIO, "MLX90614 accepts only EEPROM word writes with PEC")
        lsb, msb, pec = data
        if pec != crc8([self.address << 1, register, lsb, msb]):
            raise OSError(errno.EIO, "PEC mismatch on write: the part ignores it")
        value = lsb | (msb << 8)
        current = self.eeprom.get(register, 0)
        # EEPROM cells must be erased (written 0) before a new value sticks.
        self.eeprom[register] = value if value == 0 or current == 0 else current
