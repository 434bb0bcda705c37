"""Advisory locks between hub instances, on a real PostgreSQL (and SQLite's single mode)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

from checkpoint.localstack.postgres import Postgres
from hub.state import open_store
from hub.state.locks import Lease, exclusive, lock_key


def test_one_instance_holds_a_lease_until_its_connection_goes(
    postgres: Postgres, unique: str
) -> None:
    url = postgres.create_database(f"lease_{unique}")
    first, second = open_store(url), open_store(url)  # two hub processes' engines
    try:
        a, b = Lease(first, "trust-publisher"), Lease(second, "trust-publisher")
        assert a.try_acquire()
        assert not b.try_acquire()
        other = Lease(second, "another-role")
        assert other.try_acquire()  # names are independent
        other.release()
        assert a.still_held()

        # A hub killed with -9: the server sees its connection drop, not an unlock.
        key = lock_key("trust-publisher") & 0xFFFFFFFFFFFFFFFF
        with second.connect() as admin:
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND granted AND classid::bigint = :high AND objid::bigint = :low"
                ),
                {"high": key >> 32, "low": key & 0xFFFFFFFF},
            )
        assert _eventually(b.try_acquire)
        assert not a.still_held()
        b.release()
        assert a.try_acquire()
        a.release()
    finally:
        first.dispose()
        second.dispose()


def _eventually(probe: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.05)
    return False


def test_exclusive_runs_one_block_at_a_time_across_engines(postgres: Postgres, unique: str) -> None:
    url = postgres.create_database(f"excl_{unique}")
    engines = [open_store(url), open_store(url)]
    inside = 0
    most = 0
    guard = threading.Lock()

    def work(engine: Engine) -> None:
        nonlocal inside, most
        for _ in range(5):
            with exclusive(engine, "alert-delivery:mqtt"):
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.02)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=work, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for engine in engines:
        engine.dispose()
    assert most == 1


def test_sqlite_is_a_single_instance_that_holds_every_lease(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
    lease = Lease(engine, "trust-publisher")
    assert lease.try_acquire()
    assert lease.still_held()
    with exclusive(engine, "alert-tick"):
        pass
    engine.dispose()
