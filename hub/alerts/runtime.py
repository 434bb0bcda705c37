"""Everything alerting needs at run time, built from the hub config in one place.

The hub runtime (hub/service.py) does::

    alerting = Alerting(config, influx)
    ingest = Ingest(config, influx, derivation=alerting.derivation)
    alerting.start()        # delivery threads, and the escalation chain's
    ...every alerts.tick_s: alerting.tick()   (or alerting.start(ticker=True))
    alerting.stop()

``alerting.open_alerts()`` feeds the open-alerts gauge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine

from hub.alerts import tables  # noqa: F401 - registers the alert tables before create_all
from hub.alerts.delivery import AlertDelivery
from hub.alerts.store import AlertStore
from hub.config import HubConfig
from hub.derive import AlertDerivation
from hub.influx.writer import InfluxWriter
from hub.periodic import Periodic
from hub.publisher import HubPublisher
from hub.rules.passes import RevokedAt
from hub.state import open_store

log = logging.getLogger(__name__)


class Alerting:
    def __init__(
        self,
        config: HubConfig,
        influx: InfluxWriter | None,
        *,
        engine: Engine | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        revoked_at: RevokedAt | None = None,
        intake_full_at: Callable[[], datetime | None] | None = None,
    ) -> None:
        # The hub's one state store (``state_url``), shared with dead letters and the API.
        self.engine = engine if engine is not None else open_store(config.resolved_state_url())
        self.publisher = (
            # publish_many: a whole round of alerts in flight
            HubPublisher(config.mqtt, f"{config.client_id}-alerts", max_inflight=500)
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
            self.engine,
            config.rules,
            config.alerts,
            clock=clock,
            on_change=self.delivery.wake,
            revoked_at=revoked_at,
            intake_full_at=intake_full_at,
        )
        self.clock = clock
        self.tick_s = config.alerts.tick_s
        self.poll_s = config.alerts.poll_s
        self._rounds: list[Periodic] = []

    @property
    def store(self) -> AlertStore:
        return self.derivation.store

    def open_alerts(self) -> int:
        return self.derivation.open_alerts()

    def tick(self, now: datetime | None = None) -> None:
        self.derivation.tick(now)

    def notify_due(self) -> None:
        """Send the re-notifications and escalations due now (hub/alerts/escalation.py)."""
        self.store.notify_due(self.clock())

    def start(self, *, ticker: bool = False) -> None:
        """Start delivery and the escalation chain (re-sends and escalations due, every
        ``alerts.poll_s``); with ``ticker``, also call ``tick`` every ``alerts.tick_s``
        (for a runtime that has no timer of its own)."""
        if self.publisher is not None:
            self.publisher.start(wait_s=self.publisher.timeout_s)
        self.delivery.start()
        self.delivery.wake()  # deliver what a previous run left in the outbox
        self._rounds = [Periodic("alert-escalation", self.poll_s, self.notify_due)]
        if ticker:
            self._rounds.append(Periodic("alert-tick", self.tick_s, self.tick))
        for loop in self._rounds:
            loop.start()

    def stop(self) -> None:
        for loop in self._rounds:
            loop.stop()
        self.delivery.stop()
        if self.publisher is not None:
            self.publisher.stop()
        self.http.close()
        self.engine.dispose()
