"""The hub's Derivation: anomaly rules and alerts, durable before the batch is acked.

``Ingest`` calls ``derive`` with each stored batch. In one state-store transaction we drop
events already derived from (a redelivered batch), run the rules, fold their signals into
alerts, queue the changes for delivery and save the rules' persistent state. Only then does
``derive`` return and ingest acknowledge the messages. ``tick`` is called every few seconds
by the runtime for what depends on time alone.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update

from checkpoint.contract import Event, NodeStatus, Reading
from hub.alerts.config import AlertsConfig
from hub.alerts.signals import Signal
from hub.alerts.store import AlertStore
from hub.alerts.tables import derived_events, rule_state
from hub.rules.config import RulesConfig
from hub.rules.engine import RuleSet
from hub.rules.passes import RevokedAt
from hub.state.locks import hold_in

log = logging.getLogger(__name__)
_CHUNK = 500  # ids per IN (...) query: under every engine's bound-parameter limit
_RULED_MAX = 200_000  # event ids the rules saw, kept against a retried batch
# A rule's saved state, its value bound at execution (built and compiled once).
_SAVE_STATE = update(rule_state).where(rule_state.c.key == bindparam("state_key"))
_TURN_EVENTS = 100  # events per transaction, and per turn when another caller waits


class AlertDerivation:
    def __init__(
        self,
        engine: Engine,
        rules: RulesConfig,
        alerts: AlertsConfig,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_change: Callable[[], None] | None = None,
        revoked_at: RevokedAt | None = None,
        intake_full_at: Callable[[], datetime | None] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.alerts_config = alerts
        self.store = AlertStore(engine, alerts, on_enqueued=on_change)
        self.rules = RuleSet(rules, revoked_at=revoked_at, intake_full_at=intake_full_at)
        self.on_change = on_change
        # derive (both ingest lanes' writer threads) and tick (the runtime's timer) share the
        # rules' memory: one caller at a time (see _turn).
        self._cond = threading.Condition()
        self._busy = False
        self._waiting = 0
        self._turns = 0
        self._carry: list[Signal] = []  # computed, not yet committed (see _commit)
        self._unsaved: dict[str, Any] = {}
        self._ruled: OrderedDict[str, None] = OrderedDict()
        with engine.connect() as conn:
            rows = conn.execute(select(rule_state.c.key, rule_state.c.value))
            self.rules.load_state((r.key, r.value) for r in rows)

    def open_alerts(self) -> int:
        """Alerts not yet resolved, for the hub's Prometheus gauge."""
        return self.store.open_alerts()

    def derive(self, events: Sequence[Event], statuses: Sequence[NodeStatus]) -> None:
        """Derive in chunks of ``_TURN_EVENTS``, each its own transaction, and let a waiting
        caller go between them: a fever passage from the priority lane then waits for one
        chunk of the bulk lane's readings, not for all of them. A failed chunk fails the
        call and the batch comes again; the chunks already committed are then skipped
        (``_unseen``), so chunking keeps each event derived from once."""
        now = self.clock().astimezone(UTC)
        for start in range(0, max(len(events), 1), _TURN_EVENTS):
            with self._turn():
                self._commit(
                    now,
                    events[start : start + _TURN_EVENTS],
                    statuses if start == 0 else (),
                    tick=False,
                )
            self._let_others_go()

    def tick(self, now: datetime | None = None) -> None:
        now = (now or self.clock()).astimezone(UTC)
        with self._turn():
            self._commit(now, (), (), tick=True)

    @contextmanager
    def _turn(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            self._cond.wait_for(lambda: not self._busy)
            self._waiting -= 1
            self._busy = True
            self._turns += 1
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _let_others_go(self) -> None:
        """Between two chunks: if another caller waits, wait until it has had its turn
        (a plain lock would let this thread take it straight back)."""
        with self._cond:
            if self._waiting:
                turns = self._turns
                self._cond.wait_for(lambda: self._turns > turns, timeout=1.0)

    def _commit(
        self, now: datetime, events: Sequence[Event], statuses: Sequence[NodeStatus], *, tick: bool
    ) -> None:
        """Run the rules and store what they say, in one transaction.

        The rules' windows live in memory and cannot roll back with the transaction. So if
        the commit fails, the signals already computed are carried over to the next call
        and the events already counted are not fed to the rules again (``_ruled``): a retry
        neither loses a signal nor counts an event twice.
        """
        changed = 0
        with self.engine.begin() as conn:
            if tick:
                # Escalations and timed resolutions: one instance at a time, so that two
                # hubs on one PostgreSQL never escalate the same alert twice.
                hold_in(conn, "alert-tick")
            fresh = self._unseen(conn, events, now)
            to_rule = [e for e in fresh if e.id not in self._ruled]
            signals = self.rules.on_events(to_rule, now)
            signals += self.rules.on_statuses(statuses, now)
            if tick:
                signals += self.rules.tick(now)
            for event in to_rule:
                self._remember(event.id)
            self._carry += signals
            self._unsaved |= self.rules.dirty_state()
            changed += len(self.store.apply_all(conn, self._carry, now))
            self._save_state(conn, self._unsaved)
            if tick:
                changed += len(self.store.tick(conn, now))
                keep = now - timedelta(seconds=self.alerts_config.dedupe_keep_s)
                conn.execute(delete(derived_events).where(derived_events.c.seen_at < keep))
        self._carry = []
        self._unsaved = {}
        if changed and self.on_change is not None:
            self.on_change()

    def _remember(self, event_id: str) -> None:
        self._ruled[event_id] = None
        if len(self._ruled) > _RULED_MAX:
            self._ruled.popitem(last=False)

    def _unseen(self, conn: Connection, events: Sequence[Event], now: datetime) -> list[Event]:
        """The events not derived from before (by this hub or one sharing its store), now
        marked as derived, in their order.

        Readings are not marked: they are nine in ten of all events, and what the rules
        make of them lives in this process only (the thermometer rule's windows, the node
        registry's ward and checkpoint) or in an open alert that a second raise folds into.
        A reading seen again in this process is caught by ``_ruled``; after a restart the
        windows are new and the reading counts once in them. Every other event, whatever
        instance or lane brings it, is marked here in the transaction that derives from it.
        """
        by_id = {e.id: e for e in events}  # a batch may hold the same event twice too
        marked = [i for i, e in by_id.items() if type(e) is not Reading]
        seen = self._marked_before(conn, marked)
        fresh = [e for i, e in by_id.items() if i not in seen]
        todo = [i for i in marked if i not in seen]
        if todo:
            dialect = conn.dialect
            mark = "?" if dialect.paramstyle == "qmark" else "%s"  # sqlite3 / psycopg
            table = dialect.identifier_preparer.format_table(derived_events)
            # seen_at as the column type would bind it, converted once for all rows.
            bind = derived_events.c.seen_at.type.bind_processor(dialect)
            seen_at = bind(now) if bind is not None else now
            conn.exec_driver_sql(
                f"INSERT INTO {table} (event_id, seen_at) VALUES ({mark}, {mark})",  # noqa: S608
                [(i, seen_at) for i in todo],
            )
        if seen:
            log.debug("%d redelivered events already derived from", len(seen))
        return fresh

    @staticmethod
    def _marked_before(conn: Connection, ids: list[str]) -> set[str]:
        """Which of ``ids`` were derived from before. The statements go to the driver as
        they are: SQLAlchemy's per-row parameter handling cost more than the queries."""
        seen: set[str] = set()
        dialect = conn.dialect
        mark = "?" if dialect.paramstyle == "qmark" else "%s"  # sqlite3 / psycopg
        table = dialect.identifier_preparer.format_table(derived_events)
        # Only placeholders and our own table's name go into the text; values are bound.
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ",".join([mark] * len(chunk))
            rows = conn.exec_driver_sql(
                f"SELECT event_id FROM {table} WHERE event_id IN ({marks})",  # noqa: S608
                tuple(chunk),
            )
            seen.update(r[0] for r in rows)
        return seen

    @staticmethod
    def _save_state(conn: Connection, items: dict[str, Any]) -> None:
        for key, value in items.items():
            done = conn.execute(_SAVE_STATE, {"state_key": key, "value": value})
            if done.rowcount == 0:
                conn.execute(insert(rule_state), {"key": key, "value": value})
