"""Fixtures for node tests: a fresh MockFactory per test (always closed) and a MemoryEmitter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory

from edge.events import MemoryEmitter


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    made = MockFactory()
    yield made
    made.close()


@pytest.fixture
def emitter(unique: str) -> MemoryEmitter:
    return MemoryEmitter(f"{unique}-n1", f"{unique}-cp", unique)
