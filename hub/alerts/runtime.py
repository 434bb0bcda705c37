"""Everything alerting needs at run time, built from the hub config in one place.

The hub runtime (hub/service.py) does::

    alerting = Alerting(config, influx)
    ingest = Ingest(config, influx, derivation=alerting.derivation)
    alerting.start()        # delivery thread
    ...every few seconds: alerting.tick()
    alerting.stop()

``alerting.open_alerts()`` feeds the open-alerts gauge.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from hub.alerts import tables  # noqa: F401 - registers the alert tables before create_all
from hub.alerts.delivery import AlertDelivery
from hub.alerts.publisher import AlertPublisher
from hub.alerts.store import AlertStore
from hub.config import HubConfig
from hub.derive import AlertDerivation
from hub.influx.v1 import InfluxV1
from hub.state import open_store


class Alerting:
    def __init__(
        self,
        config: HubConfig,
        influx: InfluxV1 | None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = open_store(config.alerts.store_url)
        self.publisher = (
            AlertPublisher(config.mqtt, f"{config.client_id}-alerts")
            if config.alerts.mqtt
            else None
        )
        self.http = httpx.Client()
        self.delivery = AlertDelivery(
            self.engine,
            config.alerts,
            publisher=self.publisher,
            influx=influx if config.alerts.influx else None,
            http=self.http,
            clock=clock,
        )
        self.derivation = AlertDerivation(
            self.engine, config.rules, config.alerts, clock=clock, on_change=self.delivery.wake
        )

    @property
    def store(self) -> AlertStore:
        return self.derivation.store

    def open_alerts(self) -> int:
        return self.derivation.open_alerts()

    def tick(self, now: datetime | None = None) -> None:
        self.derivation.tick(now)

    def start(self) -> None:
        if self.publisher is not None:
            self.publisher.start()
        self.delivery.start()
        self.delivery.wake()  # deliver what a previous run left in the outbox

    def stop(self) -> None:
        self.delivery.stop()
        if self.publisher is not None:
            self.publisher.stop()
        self.http.close()
        self.engine.dispose()
