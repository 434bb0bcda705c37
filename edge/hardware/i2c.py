"""Opening the node's I2C bus (smbus2), or a stand-in when it cannot be opened."""

from __future__ import annotations

import errno
import logging

from edge.hardware.smbus import SMBusLike

log = logging.getLogger(__name__)


class MissingBus:
    """Stands in for an I2C bus that could not be opened: every transfer fails, so each
    measurement is a thermometer fault (refusal + health flag) and the node still runs."""

    def __init__(self, why: str) -> None:
        self.why = why

    def read_i2c_block_data(
        self, i2c_addr: int, register: int, length: int, force: bool | None = None
    ) -> list[int]:
        raise OSError(errno.ENODEV, self.why)

    def write_i2c_block_data(
        self, i2c_addr: int, register: int, data: list[int], force: bool | None = None
    ) -> None:
        raise OSError(errno.ENODEV, self.why)


def open_i2c_bus(number: int) -> SMBusLike:
    try:
        from smbus2 import SMBus  # noqa: PLC0415 - the edge extra; only a real node has /dev/i2c-N

        bus: SMBusLike = SMBus(number)
    except (OSError, ImportError) as exc:
        log.error("cannot open I2C bus %d (%s): the thermometer will read as faulty", number, exc)
        return MissingBus(f"/dev/i2c-{number} unavailable: {exc}")
    return bus
