"""Rule tests feed realistic node traffic (tests/hub/traffic.py) to the real
AlertDerivation on a SQLite state store and look at the alerts it keeps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from edge.events import MemoryEmitter
from hub.rules.config import RulesConfig
from hub.state import open_store
from tests.hub.rules.harness import Hub
from tests.hub.traffic import Clock


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
