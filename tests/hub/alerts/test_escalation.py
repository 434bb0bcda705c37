"""Re-notification and the escalation chain on the state store (SQLite and a real
PostgreSQL), on the hub's clock given by the test; tests/hub/test_escalation_service.py
runs it in time through a real hub, broker and webhook server."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from checkpoint.contract.alerts import AlertChange, AlertMessage, AlertNotice
from checkpoint.localstack.postgres import Postgres
from hub.alerts.chain import CriticalPolicy, EscalationConfig, Tier
from hub.alerts.config import AlertsConfig, WebhookSettings
from hub.alerts.signals import Raise, Subject
from hub.alerts.store import AlertStore
from hub.alerts.tables import alert_changes, alert_outbox
from hub.state import open_store

T0 = datetime(2021, 8, 23, 22, 0, tzinfo=UTC)
CP = Subject("phucla", "phucla-cp07")
FEVER = Raise("fever", "critical", CP, "fever 38.6 °C at phucla-cp07", resolve_after_s=3600)
CHAIN = AlertsConfig(
    influx=False,
    webhooks=[
        WebhookSettings(url="http://127.0.0.1:9/all"),  # every change
        WebhookSettings(url="http://127.0.0.1:9/zalo", name="zalo", changes=False),
    ],
    escalation=EscalationConfig(
        critical=CriticalPolicy(
            renotify_every_s=60,
            escalate_after_s=150,
            tiers=[
                Tier(name="Trực ban", targets=["mqtt", "console"]),
                Tier(name="Chỉ huy phường", targets=["mqtt", "console", "webhook:zalo"]),
            ],
        )
    ),
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def history(engine: Engine, alert_id: str) -> list[AlertMessage]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(alert_changes.c.payload)
            .where(alert_changes.c.alert_id == alert_id)
            .order_by(alert_changes.c.id)
        )
        return [AlertMessage.model_validate_json(r.payload) for r in rows]


def queued(engine: Engine) -> list[tuple[str, str, int | None]]:
    """(target, change, notice number) of every queued delivery, in order."""
    with engine.connect() as conn:
        rows = conn.execute(select(alert_outbox).order_by(alert_outbox.c.id)).all()
    out = []
    for row in rows:
        message = AlertMessage.model_validate_json(row.payload)
        number = message.notice.number if message.notice is not None else None
        out.append((row.target, message.change.value, number))
    return out


def told(message: AlertMessage) -> AlertNotice:
    assert message.notice is not None, f"{message.change} is not a notice"
    return message.notice


def raise_fever(store: AlertStore, now: datetime) -> AlertMessage:
    with store.engine.begin() as conn:
        [new] = store.apply(conn, FEVER, now)
    return new


def test_resent_and_escalated_on_schedule_until_acknowledged(engine: Engine) -> None:
    store = AlertStore(engine, CHAIN)
    new = raise_fever(store, T0)
    assert (told(new).tier_name, told(new).number, told(new).next_at) == ("Trực ban", 1, at(60))
    assert store.notify_due(at(59)) == []
    [again] = store.notify_due(at(60.4))  # found a little late: the grid stays
    assert again.change == AlertChange.RENOTIFIED
    assert told(again).next_at == at(120)
    assert store.notify_due(at(61)) == []  # sent once, not on every look
    [_] = store.notify_due(at(120))
    [up] = store.notify_due(at(150))
    assert up.change == AlertChange.ESCALATED
    assert (told(up).tier, told(up).tier_name, told(up).number) == (1, "Chỉ huy phường", 4)
    assert told(up).targets == ["mqtt", "console", "webhook:zalo"]
    assert up.severity == "critical"  # a tier up, not a severity up
    [_] = store.notify_due(at(210))
    store.acknowledge(new.alert_id, "chihuy-an", "đội 3 đang tới", now=at(230))
    assert store.notify_due(at(10_000)) == []
    [standing] = store.standing([store.get(new.alert_id)]).values()
    assert (standing.tier_name, standing.notices, standing.next_at) == ("Chỉ huy phường", 5, None)
    # The history lists every notice with its tier; the targets got what their tier says.
    assert [
        (m.change.value, m.notice and (m.notice.tier, m.notice.number))
        for m in history(engine, new.alert_id)
    ] == [
        ("new", (0, 1)),
        ("renotified", (0, 2)),
        ("renotified", (0, 3)),
        ("escalated", (1, 4)),
        ("renotified", (1, 5)),
        ("acknowledged", None),
    ]
    mqtt = [(change, n) for target, change, n in queued(engine) if target == "mqtt"]
    assert [n for _, n in mqtt] == [1, 2, 3, 4, 5, None]
    # The webhook taking every change hears changes only; the tier's webhook only its tier.
    assert [(c, n) for t, c, n in queued(engine) if t == "webhook:0"] == [
        ("new", 1),
        ("escalated", 4),
        ("acknowledged", None),
    ]
    assert [(c, n) for t, c, n in queued(engine) if t == "webhook:1"] == [
        ("escalated", 4),
        ("renotified", 5),
    ]


def test_resolving_stops_the_chain_and_a_new_alert_starts_its_own(engine: Engine) -> None:
    store = AlertStore(engine, CHAIN)
    first = raise_fever(store, T0)
    store.resolve(first.alert_id, "chihuy-an", "người đã về nhà", now=at(30))
    assert store.notify_due(at(600)) == []
    second = raise_fever(store, at(700))
    assert second.alert_id != first.alert_id
    [again] = store.notify_due(at(760))
    assert (again.alert_id, told(again).number) == (second.alert_id, 2)


def test_a_restarted_hub_carries_on_where_the_schedule_is(engine: Engine) -> None:
    """The hub stops after the first re-send and comes back at 170 s: one notice (the
    escalation due at 150 s), then the schedule of the second tier, as if never stopped."""
    before = AlertStore(engine, CHAIN)
    new = raise_fever(before, T0)
    [_] = before.notify_due(at(60))
    after = AlertStore(engine, CHAIN)  # a new hub process: nothing in memory
    [up] = after.notify_due(at(170))
    assert up.change == AlertChange.ESCALATED
    assert (told(up).number, told(up).next_at) == (3, at(210))
    assert after.notify_due(at(200)) == []
    [_] = after.notify_due(at(210))
    numbers = [m.notice.number for m in history(engine, new.alert_id) if m.notice is not None]
    assert numbers == [1, 2, 3, 4]


def test_a_rising_severity_takes_the_chain_of_its_new_severity(engine: Engine) -> None:
    store = AlertStore(engine, CHAIN)  # warnings: the built-in chain, re-sent every 900 s
    node = Subject("phucla", "phucla-cp07", "phucla-cp07-a")
    warm = Raise("cpu_temp_critical", "warning", node, "CPU 78 °C")
    with engine.begin() as conn:
        [new] = store.apply(conn, warm, T0)
        assert told(new).next_at == at(900)
        store.apply(conn, Raise("cpu_temp_critical", "critical", node, "CPU 86 °C"), at(30))
    [again] = store.notify_due(at(60))  # critical: every 60 s from the tier's start
    assert (again.severity, again.change) == ("critical", AlertChange.RENOTIFIED)


def test_two_hubs_on_one_postgresql_never_send_a_notice_twice(
    postgres: Postgres, unique: str
) -> None:
    url = postgres.create_database(f"chain_{unique}")
    engines = [open_store(url), open_store(url)]
    hubs = [AlertStore(e, CHAIN) for e in engines]
    try:
        with engines[0].begin() as conn:
            for i in range(40):
                cp = Subject("phucla", f"phucla-cp{i:02d}")
                hubs[0].apply(conn, Raise("fever", "critical", cp, "fever"), T0)
        sent: list[list[AlertMessage]] = [[], []]
        for step in (60, 120, 150, 210):
            start = threading.Barrier(2)

            def run(i: int, now: datetime, start: threading.Barrier) -> None:
                start.wait()  # both hubs look at the same moment
                sent[i] += hubs[i].notify_due(now)

            threads = [threading.Thread(target=run, args=(i, at(step), start)) for i in (0, 1)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
        both = sent[0] + sent[1]
        assert len(both) == 40 * 4  # every alert told at each of the four times ...
        once = Counter((m.alert_id, told(m).number) for m in both)
        assert max(once.values()) == 1  # ... and by one hub only
        with engines[0].connect() as conn:
            rows = conn.execute(select(alert_outbox.c.target, alert_outbox.c.payload)).all()
        mqtt = Counter(r.payload for r in rows if r.target == "mqtt")
        assert len(mqtt) == 40 * 5  # the new ones and four notices each ...
        assert max(mqtt.values()) == 1  # ... each queued once
    finally:
        for e in engines:
            e.dispose()


def test_with_no_delivery_target_notices_still_reach_the_console(engine: Engine) -> None:
    """With the ward topic off and no webhooks, notices are still in the alert's history
    (the console's board reads it) and nothing is queued for a target that is not there."""
    store = AlertStore(engine, AlertsConfig(mqtt=False, influx=False))
    new = raise_fever(store, T0)
    [_] = store.notify_due(at(300))
    assert queued(engine) == []
    assert [m.change for m in history(engine, new.alert_id)] == ["new", "renotified"]
