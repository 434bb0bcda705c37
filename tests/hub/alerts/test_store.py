"""The alert lifecycle on the state store, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from checkpoint.contract.alerts import AlertChange, AlertMessage, AlertState
from hub.alerts.config import AlertsConfig
from hub.alerts.errors import AlertConflictError, AlertInputError, AlertNotFoundError
from hub.alerts.signals import Clear, Raise, Signal, Subject
from hub.alerts.store import AlertStore
from hub.alerts.tables import alert_outbox, alerts

T0 = datetime(2021, 8, 23, 9, 0, tzinfo=UTC)
NODE = Subject("phucla", "phucla-cp07", "phucla-cp07-a")
OFFLINE = Raise("node_offline", "warning", NODE, "node phucla-cp07-a is offline")
BACK = Clear("node_offline", NODE, "online again")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def apply(store: AlertStore, signal: Signal, now: datetime) -> list[AlertMessage]:
    with store.engine.begin() as conn:
        return store.apply(conn, signal, now)


def tick(store: AlertStore, now: datetime) -> list[AlertMessage]:
    with store.engine.begin() as conn:
        return store.tick(conn, now)


def queued(engine: Engine) -> list[AlertMessage]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(alert_outbox.c.payload)
            .where(alert_outbox.c.target == "mqtt")
            .order_by(alert_outbox.c.id)
        )
        return [AlertMessage.model_validate(json.loads(r.payload)) for r in rows]


@pytest.fixture
def store(engine: Engine) -> AlertStore:
    return AlertStore(engine, AlertsConfig(flap_threshold=2))


def test_a_repeated_condition_updates_one_alert(store: AlertStore) -> None:
    apply(store, OFFLINE, at(0))
    apply(store, OFFLINE, at(10))
    apply(store, OFFLINE, at(20))
    [alert] = store.find(active=True)
    assert alert.count == 3
    assert alert.updated_at == at(20)
    assert alert.opened_at == at(0)
    assert [m.change for m in queued(store.engine)] == [
        AlertChange.NEW,
        AlertChange.UPDATED,
        AlertChange.UPDATED,
    ]
    assert store.open_alerts() == 1


def test_auto_resolve_when_the_condition_clears(store: AlertStore) -> None:
    apply(store, OFFLINE, at(0))
    [msg] = apply(store, BACK, at(30))
    assert msg.change == AlertChange.RESOLVED
    assert msg.state == AlertState.RESOLVED
    assert store.open_alerts() == 0
    assert apply(store, BACK, at(31)) == []  # nothing left to resolve


def test_acknowledge_then_resolve_and_conflicts(store: AlertStore) -> None:
    [new] = apply(store, OFFLINE, at(0))
    acked = store.acknowledge(new.alert_id, "chihuy-an", "sent a technician", now=at(5))
    assert acked.state == AlertState.ACKNOWLEDGED
    assert acked.acknowledged_by == "chihuy-an"
    # Still the same alert while acknowledged: a recurrence updates it.
    apply(store, OFFLINE, at(6))
    assert store.get(new.alert_id).count == 2
    resolved = store.resolve(new.alert_id, "chihuy-an", "power restored", now=at(60))
    assert resolved.state == AlertState.RESOLVED
    with pytest.raises(AlertConflictError):
        store.acknowledge(new.alert_id, "chihuy-an")
    with pytest.raises(AlertConflictError):
        store.resolve(new.alert_id, "chihuy-an")
    with pytest.raises(AlertNotFoundError):
        store.acknowledge("no-such-alert", "chihuy-an")
    [other] = apply(store, Raise("disk_critical", "critical", NODE, "disk"), at(61))
    with pytest.raises(AlertInputError):
        store.acknowledge(other.alert_id, "   ")
    assert store.get(other.alert_id).state == AlertState.OPEN
    changes = [(m.kind, m.change) for m in queued(store.engine)]
    assert changes == [
        ("node_offline", AlertChange.NEW),
        ("node_offline", AlertChange.ACKNOWLEDGED),
        ("node_offline", AlertChange.UPDATED),
        ("node_offline", AlertChange.RESOLVED),
        ("disk_critical", AlertChange.NEW),
    ]


def test_flapping_is_held_open_and_resolves_after_quiet(store: AlertStore) -> None:
    # The node's 4G link drops and returns every half minute.
    for i in range(10):
        apply(store, OFFLINE, at(60 * i))
        apply(store, BACK, at(60 * i + 30))
    news = [m for m in queued(store.engine) if m.change == AlertChange.NEW]
    resolved = [m for m in queued(store.engine) if m.change == AlertChange.RESOLVED]
    # flap_threshold=2: open/resolve twice more, then one alert held open, marked flapping.
    assert len(news) == 3
    assert len(resolved) == 2
    [held] = store.find(active=True)
    assert held.flapping
    assert held.count == 8
    assert news[-1].details["flapping"] is True
    # Quiet for flap_hold_s after the last clear: resolves.
    last_clear = at(60 * 9 + 30)
    early = tick(store, last_clear + timedelta(seconds=599))
    assert AlertChange.RESOLVED not in [m.change for m in early]
    assert store.open_alerts() == 1
    [res] = [
        m
        for m in tick(store, last_clear + timedelta(seconds=600))
        if m.change == AlertChange.RESOLVED
    ]
    assert res.alert_id == held.id
    assert store.open_alerts() == 0


def test_incident_resolves_after_no_recurrence(store: AlertStore) -> None:
    fever = Raise(
        "fever",
        "critical",
        Subject("phucla", "phucla-cp07"),
        "fever at phucla-cp07",
        resolve_after_s=600,
    )
    [new] = apply(store, fever, at(0))
    apply(store, fever, at(300))
    store.acknowledge(new.alert_id, "chihuy-an", now=at(301))
    assert [m.change for m in tick(store, at(899))] == []
    [res] = tick(store, at(900))
    assert res.change == AlertChange.RESOLVED
    assert res.count == 2


def test_the_database_refuses_a_second_active_alert(store: AlertStore) -> None:
    """Two hub instances racing on one condition: the unique index stops the second."""
    [new] = apply(store, OFFLINE, at(0))
    row = store.get(new.alert_id)
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(
            insert(alerts).values(
                id="another",
                ward_id=row.ward_id,
                subject=row.subject,
                kind=row.kind,
                severity="warning",
                state="open",
                summary="racing",
                details={},
                count=1,
                flips=0,
                flapping=False,
                opened_at=at(1),
                updated_at=at(1),
                last_seen_at=at(1),
            )
        )
    assert store.open_alerts() == 1
