"""The Derivation's promises to Ingest: durable when it returns, and a retried or
redelivered batch neither loses a signal nor counts an event twice. Shown with a real
PostgreSQL state store that goes away in the middle and comes back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from checkpoint.contract.models import Reason
from checkpoint.localstack.postgres import Postgres
from edge.events import MemoryEmitter
from hub.alerts.config import AlertsConfig
from hub.derive import _TURN_EVENTS, AlertDerivation
from hub.rules.config import RulesConfig
from hub.state import open_store
from tests.hub.traffic import Clock, passage, reading


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[tuple[Postgres, Engine]]:
    # Its own instance: this test stops and restarts it.
    with Postgres(tmp_path / "pg") as server:
        engine = open_store(server.create_database("hub"))
        yield server, engine
        engine.dispose()


def test_state_store_outage_loses_no_signal_and_counts_nothing_twice(
    own_postgres: tuple[Postgres, Engine],
) -> None:
    server, engine = own_postgres
    clock = Clock()
    derivation = AlertDerivation(engine, RulesConfig(), AlertsConfig(), clock=clock)
    em = MemoryEmitter("phucla-cp07-a", "phucla-cp07", "phucla", clock=clock)
    refusals = [passage(em, refuse=Reason.PASS_EXPIRED, pass_id=f"p-{i}") for i in range(5)]
    fever = passage(em, temp=(38.2, 38.4), pass_id="p-9")
    derivation.derive(refusals[:2], [])

    server.stop()
    with pytest.raises(OperationalError):
        derivation.derive([refusals[2], fever], [])  # Ingest will not ack; it retries
    server.restart()

    derivation.derive([refusals[2], fever], [])  # the retry (or the broker's redelivery)
    # Four refusals so far (the fever was refused too), not a burst of five: the retried
    # batch was not counted twice.
    [alert] = derivation.store.find(active=True)
    assert alert.kind == "fever"  # computed during the outage, stored now
    assert alert.count == 1
    derivation.derive([refusals[3]], [])  # the fifth makes the burst
    burst = [a for a in derivation.store.find(active=True) if a.kind == "refused_burst"]
    assert [a.details["refusals"] for a in burst] == [5]


def test_a_batch_redelivered_after_commit_raises_nothing_new(engine: Engine) -> None:
    clock = Clock()
    derivation = AlertDerivation(engine, RulesConfig(), AlertsConfig(), clock=clock)
    em = MemoryEmitter("phucla-cp07-a", "phucla-cp07", "phucla", clock=clock)
    batch = [passage(em, temp=(38.2, 38.4)), passage(em, temp=(38.0, 38.1))]
    derivation.derive(batch, [])
    # The hub crashed before its PUBACKs: a new hub process gets the batch again.
    restarted = AlertDerivation(engine, RulesConfig(), AlertsConfig(), clock=clock)
    restarted.derive(batch, [])
    [alert] = restarted.store.find(active=True)
    assert alert.count == 2
    # ... and a batch that is half old, half new derives from the new half only.
    later = [batch[1], passage(em, temp=(38.3, 38.5))]
    restarted.derive(later, [])
    [alert] = restarted.store.find(active=True)
    assert alert.count == 3


def test_a_fever_waits_for_one_chunk_of_readings_not_for_all_of_them(tmp_path: Path) -> None:
    """Both ingest lanes derive through one AlertDerivation. While the bulk lane derives
    a large batch of readings, the priority lane's fever gets its turn between chunks."""

    engine = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
    clock = Clock()
    derivation = AlertDerivation(engine, RulesConfig(), AlertsConfig(), clock=clock)
    nodes = [MemoryEmitter(f"phucla-cp{i:02d}-a", f"phucla-cp{i:02d}", "phucla") for i in range(40)]
    readings = [reading(nodes[i % 40], 36.0 + (i % 13) / 10) for i in range(_TURN_EVENTS * 12)]
    fever = passage(MemoryEmitter("phucla-cp99-a", "phucla-cp99", "phucla"), temp=(38.2, 38.4))
    finished: list[str] = []
    first_chunk = threading.Event()
    commit = derivation._commit

    def noting_commit(*args: object, **kwargs: object) -> None:
        commit(*args, **kwargs)  # type: ignore[arg-type]
        first_chunk.set()

    derivation._commit = noting_commit  # type: ignore[method-assign]

    def bulk() -> None:
        derivation.derive(readings, [])
        finished.append("readings")

    worker = threading.Thread(target=bulk)
    worker.start()
    try:
        assert first_chunk.wait(30)
        derivation.derive([fever], [])
        finished.append("fever")
    finally:
        worker.join(120)
        engine.dispose()
    assert finished == ["fever", "readings"]
    kinds = {a.kind for a in derivation.store.find(active=True)}
    assert "fever" in kinds
