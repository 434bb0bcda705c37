"""The part of smbus2.SMBus the thermometer uses; the emulator implements the same."""

from __future__ import annotations

from typing import Protocol


class SMBusLike(Protocol):
    def read_i2c_block_data(
        self, i2c_addr: int, register: int, length: int, force: bool | None = None
    ) -> list[int]: ...

    def write_i2c_block_data(
        self, i2c_addr: int, register: int, data: list[int], force: bool | None = None
    ) -> None: ...


def crc8(data: bytes | list[int]) -> int:
    """SMBus PEC: CRC-8 with polynomial x^8 + x^2 + x + 1 (0x07), initial value 0."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc
