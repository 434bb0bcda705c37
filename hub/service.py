"""The hub runtime behind ``checkpoint hub run``: state store, InfluxDB writer, ingest,
/metrics, and a clean stop.

The derivation (anomaly rules and alerts) is injected: pass a ``Derivation`` or a factory
that builds one from the running hub's parts (its state store, metrics and MQTT client,
through which alerts go out to the ward topics).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from sqlalchemy import Engine

from hub.config import HubConfig
from hub.influx.writer import InfluxWriter, open_writer
from hub.ingest.batch import Derivation
from hub.ingest.consumer import Ingest
from hub.ingest.deadletters import DeadLetterStore
from hub.metrics import HubMetrics
from hub.state import open_store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HubParts:
    """What a derivation factory may use."""

    config: HubConfig
    engine: Engine
    metrics: HubMetrics
    mqtt: mqtt.Client  # the ingest's own connection: publish alerts through it


DerivationFactory = Callable[[HubParts], Derivation]


class HubService:
    def __init__(
        self,
        config: HubConfig,
        *,
        derivation: Derivation | DerivationFactory | None = None,
    ) -> None:
        self.config = config
        self._derivation = derivation
        self.metrics = HubMetrics()
        self.engine: Engine | None = None
        self.influx: InfluxWriter | None = None
        self.ingest: Ingest | None = None
        self.dead_letters: DeadLetterStore | None = None
        self.metrics_port: int | None = None

    def start(self, connect_timeout_s: float = 30.0) -> None:
        cfg = self.config
        try:
            cfg.data_dir.mkdir(parents=True, exist_ok=True)
            self.engine = open_store(cfg.resolved_state_url())
            self.dead_letters = DeadLetterStore(self.engine)
            self.influx = open_writer(cfg.influx)
            self.ingest = Ingest(
                cfg, self.influx, metrics=self.metrics, dead_letters=self.dead_letters
            )
            self.ingest.derivation = self._build_derivation(self.engine, self.ingest.client)
            if cfg.metrics.enabled:
                self.metrics_port = self.metrics.serve(cfg.metrics.host, cfg.metrics.port)
                log.info("metrics on http://%s:%d/metrics", cfg.metrics.host, self.metrics_port)
            self.ingest.start(connect_timeout_s)
        except BaseException:
            self.stop()
            raise
        log.info(
            "hub %s consuming from %s:%d into %s (%s)",
            cfg.client_id,
            cfg.mqtt.host,
            cfg.mqtt.port,
            cfg.influx.url,
            cfg.influx.api,
        )

    def _build_derivation(self, engine: Engine, client: mqtt.Client) -> Derivation | None:
        d = self._derivation
        if d is None or hasattr(d, "derive"):
            return d  # a Derivation already
        return d(HubParts(self.config, engine, self.metrics, client))

    def stop(self) -> None:
        """Write what can be written, acknowledge it, then disconnect; idempotent."""
        if self.ingest is not None:
            self.ingest.stop()
            self.ingest = None
        self.metrics.close()
        if self.influx is not None:
            self.influx.close()
            self.influx = None
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
