"""The alert lifecycle on the state store: open -> acknowledged -> resolved.

One active alert per (subject, kind): a repeated condition updates it (count, updated_at)
instead of opening another. Every change is queued for delivery in the same transaction
that makes it (``alert_outbox``), so a change is delivered if and only if it was stored.

Flapping: an alert opened again soon after it resolved counts a flip (``flap_window_s``).
From ``flap_threshold`` flips on, the alert is *flapping*: a clear no longer resolves it
at once but only after the condition stayed clear for ``flap_hold_s``, and a re-raise while
it waits is folded in silently, so the command centre stops hearing open/resolved pairs.

Re-notification and escalation of unacknowledged alerts: hub/alerts/escalation.py, whose
notices this store records and queues like the changes (``notify_due``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    BindParameter,
    Connection,
    Engine,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from checkpoint.contract.alerts import AlertChange, AlertMessage, AlertState
from checkpoint.contract.ids import uuid7
from hub.alerts.config import AlertsConfig
from hub.alerts.errors import AlertConflictError, AlertInputError, AlertNotFoundError
from hub.alerts.escalation import CLAIM_BATCH, EscalationChain, Standing, Told
from hub.alerts.model import SEVERITY_RANK, Alert
from hub.alerts.routing import targets
from hub.alerts.signals import Clear, Raise, Signal
from hub.alerts.tables import alert_changes, alert_outbox, alerts

RESOLVED = AlertState.RESOLVED.value
# One alert by id, its values bound at execution (built and compiled once).
_ID: BindParameter[str] = bindparam("alert_id")
_LOAD = select(alerts).where(alerts.c.id == _ID)


def _person(who: str) -> str:
    """Who acknowledges or resolves is recorded; an empty or overlong name is refused."""
    who = who.strip()
    if not who or len(who) > 64:
        raise AlertInputError("who must name the person: 1-64 characters")
    return who


class AlertStore:
    def __init__(
        self,
        engine: Engine,
        config: AlertsConfig,
        *,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.on_enqueued = on_enqueued
        self.chain = EscalationChain(config)

    # ---------------------------------------------------------------- reading

    def get(self, alert_id: str) -> Alert:
        with self.engine.connect() as conn:
            row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
        if row is None:
            raise AlertNotFoundError(f"no alert {alert_id!r}")
        return Alert.from_row(row)

    def find(self, *, active: bool | None = None, ward_id: str | None = None) -> list[Alert]:
        query = select(alerts).order_by(alerts.c.opened_at, alerts.c.id)
        if active is True:
            query = query.where(alerts.c.state != RESOLVED)
        elif active is False:
            query = query.where(alerts.c.state == RESOLVED)
        if ward_id is not None:
            query = query.where(alerts.c.ward_id == ward_id)
        with self.engine.connect() as conn:
            return [Alert.from_row(r) for r in conn.execute(query)]

    def standing(self, found: Sequence[Alert]) -> dict[str, Standing]:
        """Where each of these alerts is in its escalation chain, by alert id."""
        with self.engine.connect() as conn:
            return self.chain.standing(conn, found)

    def open_alerts(self) -> int:
        """Alerts not yet resolved (open or acknowledged): the hub's open-alerts gauge."""
        with self.engine.connect() as conn:
            query = select(func.count()).select_from(alerts).where(alerts.c.state != RESOLVED)
            return int(conn.execute(query).scalar_one())

    @staticmethod
    def active(conn: Connection, subject: str, kind: str) -> Alert | None:
        row = conn.execute(
            select(alerts).where(
                alerts.c.subject == subject, alerts.c.kind == kind, alerts.c.state != RESOLVED
            )
        ).first()
        return None if row is None else Alert.from_row(row)

    # ---------------------------------------------------------------- rules' signals

    def apply_all(
        self, conn: Connection, signals: Sequence[Signal], now: datetime
    ) -> list[AlertMessage]:
        """Fold many signals in order, inside the caller's transaction.

        Most Clears concern nothing open (a rule's first verdict on a node after a start
        is "fine"): which subjects have an active alert is read once for all of them, and
        such Clears are skipped instead of each costing a query."""
        if not signals:
            return []
        active = self._active_keys(conn, {s.subject.key for s in signals})
        out: list[AlertMessage] = []
        now = now.astimezone(UTC)
        for signal in signals:
            key = (signal.subject.key, signal.kind)
            if isinstance(signal, Raise) and key not in active:
                # Nothing open for it (as read above, in this transaction): a new alert,
                # without asking again. Another instance opening it at the same moment
                # makes one of the two inserts fail (see docs/scale-out.md).
                active.add(key)
                out += self._open(conn, signal, now)
            elif key in active:
                out += self.apply(conn, signal, now)
        return out

    @staticmethod
    def _active_keys(conn: Connection, subjects: set[str]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        ordered = sorted(subjects)
        for i in range(0, len(ordered), 500):  # under every engine's bound-parameter limit
            rows = conn.execute(
                select(alerts.c.subject, alerts.c.kind).where(
                    alerts.c.subject.in_(ordered[i : i + 500]), alerts.c.state != RESOLVED
                )
            )
            found.update((r.subject, r.kind) for r in rows)
        return found

    def apply(self, conn: Connection, signal: Signal, now: datetime) -> list[AlertMessage]:
        """Fold one signal into the alerts, inside the caller's transaction."""
        now = now.astimezone(UTC)
        if isinstance(signal, Raise):
            return self._raise(conn, signal, now)
        return self._clear(conn, signal, now)

    def _raise(self, conn: Connection, sig: Raise, now: datetime) -> list[AlertMessage]:
        current = self.active(conn, sig.subject.key, sig.kind)
        if current is None:
            return self._open(conn, sig, now)
        severity = max(current.severity, sig.severity, key=SEVERITY_RANK.__getitem__)
        values: dict[str, object] = {
            "count": current.count + 1,
            "updated_at": now,
            "last_seen_at": now,
            "summary": sig.summary[:512],
            "details": sig.details,
            "severity": severity,
            "resolve_after_s": sig.resolve_after_s,
        }
        if current.clear_since is not None:
            # A flapping alert waiting out its hold: the condition is back; say nothing.
            values |= {"clear_since": None, "flips": current.flips + 1}
            self._update(conn, current.id, values)
            return []
        updated = self._update(conn, current.id, values)
        if severity != current.severity:
            self.chain.severity_changed(conn, updated, now)
        return [self._emit(conn, updated, AlertChange.UPDATED, now)]

    def _open(self, conn: Connection, sig: Raise, now: datetime) -> list[AlertMessage]:
        since = now - timedelta(seconds=self.config.flap_window_s)
        last = conn.execute(
            select(alerts.c.flips)
            .where(
                alerts.c.subject == sig.subject.key,
                alerts.c.kind == sig.kind,
                alerts.c.state == RESOLVED,
                alerts.c.resolved_at >= since,
            )
            .order_by(alerts.c.resolved_at.desc())
            .limit(1)
        ).first()
        flips = 0 if last is None else last.flips + 1
        alert_id = uuid7()
        # Values as parameters, not .values(): the statement is then built and compiled
        # once, which is most of what opening an alert costs (a fever waits for it).
        values = {
            "id": alert_id,
            "ward_id": sig.subject.ward_id,
            "subject": sig.subject.key,
            "checkpoint_id": sig.subject.checkpoint_id,
            "node_id": sig.subject.node_id,
            "kind": sig.kind,
            "severity": sig.severity,
            "state": AlertState.OPEN.value,
            "summary": sig.summary[:512],
            "details": sig.details,
            "count": 1,
            "flips": flips,
            "flapping": flips >= self.config.flap_threshold,
            "opened_at": now,
            "updated_at": now,
            "last_seen_at": now,
            "resolve_after_s": sig.resolve_after_s,
        }
        conn.execute(insert(alerts), values)
        # As stored, without reading it back (a fever waits for this): every other column
        # is NULL, and the details as the JSON column gives them back.
        alert = Alert.from_mapping({**values, "details": json.loads(json.dumps(sig.details))})
        told = self.chain.start(conn, alert, now)
        return [self._emit(conn, alert, told.change, now, told)]

    def _clear(self, conn: Connection, sig: Clear, now: datetime) -> list[AlertMessage]:
        current = self.active(conn, sig.subject.key, sig.kind)
        if current is None:
            return []
        if current.flapping:
            if current.clear_since is None:
                self._update(conn, current.id, {"clear_since": now})
            return []
        return self._resolve(conn, current, now, by="hub", note=sig.reason)

    def _resolve(
        self, conn: Connection, alert: Alert, now: datetime, *, by: str, note: str
    ) -> list[AlertMessage]:
        values = {
            "state": RESOLVED,
            "resolved_at": now,
            "resolved_by": by,
            "updated_at": now,
            "clear_since": None,
        }
        if note:
            values["note"] = note[:512]
        resolved = self._update(conn, alert.id, values)
        self.chain.stop(conn, alert.id)
        return [self._emit(conn, resolved, AlertChange.RESOLVED, now)]

    # ---------------------------------------------------------------- time

    def tick(self, conn: Connection, now: datetime) -> list[AlertMessage]:
        """Resolve held flappers and quiet incidents; forget old history."""
        now = now.astimezone(UTC)
        out: list[AlertMessage] = []
        horizon = now - timedelta(days=self.config.history_days)
        conn.execute(delete(alert_changes).where(alert_changes.c.at < horizon))
        active = conn.execute(
            select(alerts).where(
                alerts.c.state != RESOLVED,
                (alerts.c.clear_since.is_not(None)) | (alerts.c.resolve_after_s.is_not(None)),
            )
        )
        hold = timedelta(seconds=self.config.flap_hold_s)
        for alert in [Alert.from_row(r) for r in active]:
            if alert.clear_since is not None and alert.clear_since + hold <= now:
                out += self._resolve(conn, alert, now, by="hub", note="stayed clear")
            elif (
                alert.resolve_after_s is not None
                and alert.last_seen_at + timedelta(seconds=alert.resolve_after_s) <= now
            ):
                out += self._resolve(conn, alert, now, by="hub", note="no recurrence")
        return out

    def notify_due(self, now: datetime | None = None) -> list[AlertMessage]:
        """Send the re-notifications and escalations due at ``now`` (claimed, recorded in
        each alert's history and queued for delivery in one transaction per batch)."""
        now = (now or datetime.now(UTC)).astimezone(UTC)
        out: list[AlertMessage] = []
        while True:
            with self.engine.begin() as conn:
                claimed = self.chain.claim_due(conn, now)
                for told in claimed:
                    alert = self._load(conn, told.alert_id)
                    out.append(self._emit(conn, alert, told.change, now, told))
            if len(claimed) < CLAIM_BATCH:
                break
        if out:
            self._notify()
        return out

    # ---------------------------------------------------------------- people (hub API)

    def acknowledge(
        self, alert_id: str, who: str, note: str = "", *, now: datetime | None = None
    ) -> Alert:
        """Acknowledge an open alert. A resolved one raises AlertConflictError (HTTP 409);
        acknowledging twice returns the alert unchanged."""
        now = (now or datetime.now(UTC)).astimezone(UTC)
        who = _person(who)
        with self._unresolved(alert_id, "is resolved; it cannot be acked") as (conn, alert):
            if alert.state == AlertState.ACKNOWLEDGED:
                return alert
            acked = self._update(
                conn,
                alert_id,
                {
                    "state": AlertState.ACKNOWLEDGED.value,
                    "acknowledged_at": now,
                    "acknowledged_by": who,
                    "note": note[:512] or None,
                    "updated_at": now,
                },
            )
            self.chain.stop(conn, alert_id)
            self._emit(conn, acked, AlertChange.ACKNOWLEDGED, now)
        self._notify()
        return acked

    def resolve(
        self, alert_id: str, who: str, note: str = "", *, now: datetime | None = None
    ) -> Alert:
        """Resolve by hand; resolving a resolved alert raises AlertConflictError."""
        now = (now or datetime.now(UTC)).astimezone(UTC)
        who = _person(who)
        with self._unresolved(alert_id, "is already resolved") as (conn, alert):
            self._resolve(conn, alert, now, by=who, note=note)
            resolved = self._load(conn, alert_id)
        self._notify()
        return resolved

    # ---------------------------------------------------------------- plumbing

    def _notify(self) -> None:
        if self.on_enqueued is not None:
            self.on_enqueued()

    def _load(self, conn: Connection, alert_id: str) -> Alert:
        row = conn.execute(_LOAD, {"alert_id": alert_id}).first()
        if row is None:
            raise AlertNotFoundError(f"no alert {alert_id!r}")
        return Alert.from_row(row)

    @contextmanager
    def _unresolved(self, alert_id: str, refusal: str) -> Iterator[tuple[Connection, Alert]]:
        """The alert locked in a transaction for a person's change; AlertConflictError
        ("alert ID " + refusal) if it is resolved."""
        with self.engine.begin() as conn:
            alert = self._load_for_update(conn, alert_id)
            if alert.state == AlertState.RESOLVED:
                raise AlertConflictError(f"alert {alert_id} {refusal}")
            yield conn, alert

    def _load_for_update(self, conn: Connection, alert_id: str) -> Alert:
        # FOR UPDATE on PostgreSQL (two API calls racing); SQLite serialises writers anyway.
        row = conn.execute(select(alerts).where(alerts.c.id == alert_id).with_for_update()).first()
        if row is None:
            raise AlertNotFoundError(f"no alert {alert_id!r}")
        return Alert.from_row(row)

    def _update(self, conn: Connection, alert_id: str, values: dict[str, object]) -> Alert:
        conn.execute(update(alerts).where(alerts.c.id == _ID), {"alert_id": alert_id, **values})
        return self._load(conn, alert_id)

    def _emit(
        self,
        conn: Connection,
        alert: Alert,
        change: AlertChange,
        now: datetime,
        told: Told | None = None,
    ) -> AlertMessage:
        """Record a change or a notice (``told``) in the alert's history and queue it for
        each of its targets."""
        message = alert.message(change, None if told is None else told.notice)
        payload = message.model_dump_json()
        conn.execute(
            insert(alert_changes),
            {
                "alert_id": alert.id,
                "ward_id": alert.ward_id,
                "change": change.value,
                "at": now,
                "payload": payload,
            },
        )
        queued = [
            {"alert_id": alert.id, "target": t, "payload": payload, "attempts": 0, "next_at": now}
            for t in targets(
                self.config, alert.ward_id, change, None if told is None else told.tier
            )
        ]
        if queued:
            conn.execute(insert(alert_outbox), queued)
        return message
