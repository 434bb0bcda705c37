"""Realistic node traffic for hub tests: contract events built through MemoryEmitter
nodes (the envelope the real node code adds), with a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from checkpoint.contract import Health, Passage, Reading
from checkpoint.contract.models import (
    BarrierMotion,
    Decision,
    PassCheck,
    Reason,
    TemperatureCheck,
)
from edge.events import MemoryEmitter


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2021, 8, 23, 1, 0, tzinfo=UTC)  # 08:00 in Ha Noi

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def passage(
    em: MemoryEmitter,
    *,
    refuse: Reason | None = None,
    temp: tuple[float, float | None] = (36.4, None),
    pass_id: str | None = "p-0001",  # noqa: S107 - a travel pass id, not a password
    barrier_fault: str | None = None,
) -> Passage:
    first, second = temp
    fever = second is not None and second >= 37.5
    reason = refuse or (Reason.FEVER if fever else Reason.OK)
    return em.emit(
        Passage,
        direction="out",
        decision=Decision.REFUSE if (refuse or fever) else Decision.ADMIT,
        reason=reason,
        zone_level="green",
        temperature=TemperatureCheck(
            first_c=first, second_c=second, ambient_c=29.0, threshold_c=37.5, fever=fever
        ),
        pass_check=PassCheck(pass_id=pass_id, category="resident", valid=True, reason=Reason.OK)
        if pass_id
        else None,
        barrier=BarrierMotion(
            opened=not (refuse or fever), closed=True, open_s=0.8, fault=barrier_fault
        ),
        duration_ms=2400,
    )


def reading(em: MemoryEmitter, object_c: float, ambient_c: float = 29.0) -> Reading:
    return em.emit(
        Reading, object_c=object_c, ambient_c=ambient_c, samples=5, spread_c=0.1, emissivity=0.98
    )


def health(em: MemoryEmitter, **fields: Any) -> Health:
    base: dict[str, Any] = {
        "uptime_s": 3600.0,
        "cpu_temp_c": 55.0,
        "disk_free_bytes": 8_000_000_000,
        "outbox_depth": 0,
        "outbox_dropped": 0,
        "config_version": "v1",
        "software_version": "0.1.0",
    }
    return em.emit(Health, **(base | fields))
