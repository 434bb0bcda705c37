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
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from checkpoint.contract import Event, NodeStatus
from hub.alerts.config import AlertsConfig
from hub.alerts.signals import Signal
from hub.alerts.store import AlertStore
from hub.alerts.tables import derived_events, rule_state
from hub.rules.config import RulesConfig
from hub.rules.engine import RuleSet

log = logging.getLogger(__name__)
_CHUNK = 500  # ids per IN (...) query: under every engine's bound-parameter limit


class AlertDerivation:
    def __init__(
        self,
        engine: Engine,
        rules: RulesConfig,
        alerts: AlertsConfig,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.alerts_config = alerts
        self.store = AlertStore(engine, alerts, on_enqueued=on_change)
        self.rules = RuleSet(rules)
        self.on_change = on_change
        # derive (writer thread) and tick (runtime's timer) share the rules' memory.
        self._lock = threading.Lock()
        with engine.connect() as conn:
            rows = conn.execute(select(rule_state.c.key, rule_state.c.value))
            self.rules.load_state((r.key, r.value) for r in rows)

    def open_alerts(self) -> int:
        """Alerts not yet resolved, for the hub's Prometheus gauge."""
        return self.store.open_alerts()

    def derive(self, events: Sequence[Event], statuses: Sequence[NodeStatus]) -> None:
        now = self.clock().astimezone(UTC)
        with self._lock, self.engine.begin() as conn:
            fresh = self._unseen(conn, events, now)
            signals = self.rules.on_events(fresh, now)
            signals += self.rules.on_statuses(statuses, now)
            changed = self._apply(conn, signals, now)
        if changed and self.on_change is not None:
            self.on_change()

    def tick(self, now: datetime | None = None) -> None:
        now = (now or self.clock()).astimezone(UTC)
        with self._lock, self.engine.begin() as conn:
            changed = self._apply(conn, self.rules.tick(now), now)
            messages = self.store.tick(conn, now)
            keep = now - timedelta(seconds=self.alerts_config.dedupe_keep_s)
            conn.execute(delete(derived_events).where(derived_events.c.seen_at < keep))
        if (changed or messages) and self.on_change is not None:
            self.on_change()

    def _unseen(self, conn: Connection, events: Sequence[Event], now: datetime) -> list[Event]:
        by_id = {e.id: e for e in events}  # a batch may hold the same event twice too
        ids = list(by_id)
        seen: set[str] = set()
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            rows = conn.execute(
                select(derived_events.c.event_id).where(derived_events.c.event_id.in_(chunk))
            )
            seen.update(r.event_id for r in rows)
        fresh = [e for i, e in by_id.items() if i not in seen]
        if fresh:
            conn.execute(
                insert(derived_events), [{"event_id": e.id, "seen_at": now} for e in fresh]
            )
        if seen:
            log.debug("%d redelivered events already derived from", len(seen))
        return fresh

    def _apply(self, conn: Connection, signals: list[Signal], now: datetime) -> int:
        changed = 0
        for signal in signals:
            changed += len(self.store.apply(conn, signal, now))
        self._save_state(conn, self.rules.dirty_state())
        return changed

    @staticmethod
    def _save_state(conn: Connection, items: dict[str, Any]) -> None:
        for key, value in items.items():
            done = conn.execute(
                update(rule_state).where(rule_state.c.key == key).values(value=value)
            )
            if done.rowcount == 0:
                conn.execute(insert(rule_state).values(key=key, value=value))
