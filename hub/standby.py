"""Active and standby: two hub instances with one ``client_id`` on one PostgreSQL.

The broker keeps one persistent session per client id. The instance holding the
``hub-session:<client_id>`` lease (``hub/state/locks.py``) is the one that connects with
it; the other waits, with its metrics up, and takes the lease, then the session, when the
active one dies: the broker hands it what the dead one had received unacknowledged and
everything queued since, so nothing waits for a restart. Only one instance derives, so
windowed rules see every event of the ward.

An active instance that loses its lease (its state-store connection dropped while it
lives) stops at once, so that it never shares the session with its successor; systemd
(``Restart=always``) starts it again as the standby.
"""

from __future__ import annotations

import logging
import os
import signal
import time

from sqlalchemy import Engine

from checkpoint import systemd
from hub.periodic import Periodic
from hub.state.locks import Lease, shares_instances

log = logging.getLogger(__name__)


def session_lease(engine: Engine, client_id: str, share_group: str | None) -> Lease | None:
    """The lease for this config, or None where every instance runs (SQLite: the only
    instance; a share group: members share the load instead)."""
    if share_group is not None or not shares_instances(engine):
        return None
    return Lease(engine, f"hub-session:{client_id}")


def wait_for(lease: Lease, check_s: float) -> None:
    """Block until this instance holds ``lease`` (SIGTERM ends the wait as usual).

    A standby is a started service to systemd (``Type=notify``): it says READY at once and
    keeps the watchdog fed while it waits, or systemd would kill it as hung."""
    if lease.try_acquire():
        return
    log.info("standby: another instance holds %s; waiting to take over", lease.name)
    systemd.notify(f"READY=1\nSTATUS=standby: waiting for {lease.name}")
    while not lease.try_acquire():
        systemd.notify("WATCHDOG=1")
        time.sleep(check_s)
    log.info("taking over %s", lease.name)
    systemd.notify(f"STATUS=active: holds {lease.name}")


class LeaseWatch:
    """Checks the held lease every ``check_s``; on loss, stops this process (SIGTERM)."""

    def __init__(self, lease: Lease, check_s: float) -> None:
        self.lease = lease
        self._rounds = Periodic("lease-watch", check_s, self._check)

    def start(self) -> None:
        self._rounds.start()

    def _check(self) -> None:
        if not self.lease.still_held():
            log.error("lost %s (state store connection): stopping", self.lease.name)
            self._rounds.stop()  # one SIGTERM: the process is stopping
            os.kill(os.getpid(), signal.SIGTERM)

    def stop(self) -> None:
        self._rounds.stop(timeout_s=5)
