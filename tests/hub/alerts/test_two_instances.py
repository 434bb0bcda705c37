"""Two hub instances on one PostgreSQL folding signals into one alert table and draining
one delivery outbox: an alert is opened once and each change is published once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from checkpoint.localstack.postgres import Postgres
from checkpoint.settings.mqtt import MqttSettings
from hub.alerts.config import AlertsConfig
from hub.alerts.delivery import AlertDelivery
from hub.alerts.signals import Raise, Subject
from hub.alerts.store import AlertStore
from hub.publisher import HubPublisher
from hub.state import open_store
from tests.helpers import wait_for
from tests.ward_alerts import WardAlerts

T0 = datetime(2026, 11, 30, 8, tzinfo=UTC)


@pytest.fixture
def engines(postgres: Postgres, unique: str) -> Iterator[list[Engine]]:
    url = postgres.create_database(f"two_{unique}")
    both = [open_store(url), open_store(url)]  # one per hub process
    yield both
    for engine in both:
        engine.dispose()


def test_racing_instances_open_one_alert(engines: list[Engine], unique: str) -> None:
    config = AlertsConfig()
    first, second = (AlertStore(e, config) for e in engines)
    fever = Raise("fever", "critical", Subject(unique, f"{unique}-cp01"), "fever 38.9 °C")
    failed: list[BaseException] = []

    def other_instance() -> None:
        try:
            with second.engine.begin() as conn:
                second.apply(conn, fever, T0)
        except IntegrityError as exc:  # its batch fails and comes again (hub/derive.py)
            failed.append(exc)

    with first.engine.connect() as conn, conn.begin():
        first.apply(conn, fever, T0)  # not committed yet when the other one tries
        racer = threading.Thread(target=other_instance)
        racer.start()
        racer.join(0.5)
        assert racer.is_alive(), "the other instance should wait for this transaction"
    racer.join(10)
    assert len(failed) == 1
    with second.engine.begin() as conn:  # the retry folds into the open alert
        second.apply(conn, fever, T0 + timedelta(seconds=5))
    [alert] = first.find(ward_id=unique)
    assert (alert.count, alert.state.value) == (2, "open")


def test_two_deliveries_publish_each_change_once(
    engines: list[Engine], mqtt_settings: MqttSettings, unique: str
) -> None:
    config = AlertsConfig(influx=False)
    store = AlertStore(engines[0], config)
    barrier = Raise("barrier_held_open", "warning", Subject(unique, f"{unique}-cp07"), "95 s")
    for i in range(20):
        with store.engine.begin() as conn:
            store.apply(conn, barrier, T0 + timedelta(seconds=i))
    publishers = [HubPublisher(mqtt_settings, f"hub-{unique}-{i}-alerts") for i in (0, 1)]
    ward = WardAlerts(mqtt_settings.host, mqtt_settings.port, unique)
    try:
        for publisher in publishers:
            publisher.start()
        deliveries = [
            AlertDelivery(e, config, publisher=p) for e, p in zip(engines, publishers, strict=True)
        ]
        rounds = [
            threading.Thread(target=d.deliver_due, kwargs={"now": T0 + timedelta(minutes=1)})
            for d in deliveries * 3
        ]
        for thread in rounds:
            thread.start()
        for thread in rounds:
            thread.join(30)
        wait_for(lambda: len(ward.messages) >= 20, what="twenty changes on the ward topic")
        assert deliveries[0].pending() == 0
    finally:
        for publisher in publishers:
            publisher.stop()
        ward.close()
    assert [m.count for m in ward.messages] == list(range(1, 21))
