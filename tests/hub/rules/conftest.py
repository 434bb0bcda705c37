"""Realistic node traffic for the rules: contract events from MemoryEmitter nodes, fed to
the real AlertDerivation on a SQLite state store, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from checkpoint.contract import Event, Health, Passage, Reading
from checkpoint.contract.models import (
    BarrierMotion,
    Decision,
    PassCheck,
    Reason,
    TemperatureCheck,
)
from edge.events import MemoryEmitter
from hub.alerts.config import AlertsConfig
from hub.alerts.model import Alert
from hub.derive import AlertDerivation
from hub.rules.config import RulesConfig
from hub.state import open_store


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2021, 8, 23, 1, 0, tzinfo=UTC)  # 08:00 in Ha Noi

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class Hub:
    """The derivation plus what a test needs to drive and inspect it."""

    def __init__(self, engine: Engine, clock: Clock, rules: RulesConfig) -> None:
        self.engine = engine
        self.clock = clock
        self.rules = rules
        self.derivation = AlertDerivation(engine, rules, AlertsConfig(), clock=clock)

    def feed(self, *events: Event) -> None:
        self.derivation.derive(list(events), [])

    def tick(self) -> None:
        self.derivation.tick()

    def active(self, kind: str | None = None) -> list[Alert]:
        found = self.derivation.store.find(active=True)
        return [a for a in found if kind is None or a.kind == kind]

    def resolved(self, kind: str) -> list[Alert]:
        return [a for a in self.derivation.store.find(active=False) if a.kind == kind]

    def restart(self) -> Hub:
        return Hub(self.engine, self.clock, self.rules)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_hub(tmp_path: Path, clock: Clock) -> Iterator[Callable[..., Hub]]:
    engines: list[Engine] = []

    def make(rules: RulesConfig | None = None) -> Hub:
        engine = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
        engines.append(engine)
        return Hub(engine, clock, rules or RulesConfig())

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def hub(make_hub: Callable[..., Hub]) -> Hub:
    return make_hub()


@pytest.fixture
def node(clock: Clock) -> Callable[..., MemoryEmitter]:
    def make(node_id: str = "phucla-cp07-a", checkpoint: str = "phucla-cp07") -> MemoryEmitter:
        ward = checkpoint.split("-", maxsplit=1)[0]
        return MemoryEmitter(node_id, checkpoint, ward, clock=clock)

    return make


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
