"""The session lease of an active and a standby hub, on a real PostgreSQL: the standby
waits as a started systemd service, takes over when the lease is free, and an active hub
that loses its lease stops itself."""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from sqlalchemy import Engine, text

from checkpoint.localstack.postgres import Postgres
from hub.standby import LeaseWatch, session_lease, wait_for
from hub.state import open_store
from tests.helpers import wait_for as poll


@pytest.fixture
def engines(postgres: Postgres, unique: str) -> Iterator[list[Engine]]:
    url = postgres.create_database(f"standby_{unique}")
    both = [open_store(url), open_store(url)]
    yield both
    for engine in both:
        engine.dispose()


def test_only_postgresql_without_a_share_group_has_a_standby(
    engines: list[Engine], tmp_path: Path
) -> None:
    assert session_lease(engines[0], "hub", share_group="g") is None
    sqlite = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
    assert session_lease(sqlite, "hub", share_group=None) is None
    sqlite.dispose()
    lease = session_lease(engines[0], "hub", share_group=None)
    assert lease is not None
    assert lease.name == "hub-session:hub"


def test_the_standby_waits_as_a_ready_service_then_takes_over(
    engines: list[Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(10)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    active = session_lease(engines[0], "city-hub", None)
    standby = session_lease(engines[1], "city-hub", None)
    assert active is not None
    assert standby is not None
    wait_for(active, 0.1)  # free: taken at once
    waiter = threading.Thread(target=wait_for, args=(standby, 0.1))
    waiter.start()
    assert notify.recv(200).startswith(b"READY=1\nSTATUS=standby")
    assert notify.recv(200) == b"WATCHDOG=1"  # fed while it waits (WatchdogSec=)
    assert waiter.is_alive()
    active.release()
    waiter.join(10)
    assert standby.held
    standby.release()
    notify.close()


def test_an_active_hub_that_loses_its_lease_stops_itself(engines: list[Engine]) -> None:
    lease = session_lease(engines[0], "city-hub", None)
    assert lease is not None
    wait_for(lease, 0.1)
    stopped = threading.Event()

    def on_term(_sig: int, _frame: FrameType | None) -> None:
        stopped.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    watch = LeaseWatch(lease, 0.1)
    try:
        watch.start()
        with engines[1].connect() as admin:  # the server drops the lease's connection
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND pid != pg_backend_pid()"
                )
            )
        poll(stopped.is_set, timeout_s=10, what="SIGTERM to itself")
        assert not lease.held
    finally:
        watch.stop()
        signal.signal(signal.SIGTERM, previous)
