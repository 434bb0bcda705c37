"""The hub runtime behind ``checkpoint hub run``: state store, InfluxDB writer, ingest,
anomaly rules and alerts, the API, /metrics, and a clean stop. On PostgreSQL without a
share group, an instance first waits for its session lease (a standby, hub/standby.py).

By default the derivation is the hub's own rules and alerts (hub/alerts/runtime.py). Tests
and benchmarks may inject another: a ``Derivation``, a factory that builds one from the
running hub's parts, or None for plain ingest.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import Engine

from hub.alerts.runtime import Alerting
from hub.api.app import create_app
from hub.api.context import ApiContext
from hub.api.server import ApiServer
from hub.config import HubConfig
from hub.influx.v1 import InfluxError, InfluxV1
from hub.influx.writer import InfluxWriter, open_v1, open_writer
from hub.ingest.batch import Derivation
from hub.ingest.consumer import Ingest
from hub.ingest.deadletters import DeadLetterStore
from hub.levels import republish_levels
from hub.metrics import HubMetrics
from hub.passes.desk import PassDesk
from hub.passes.publisher import TrustPublisher
from hub.periodic import Periodic
from hub.publisher import HubPublisher
from hub.releases.rollout import Rollouts
from hub.releases.store import ReleaseStore
from hub.standby import LeaseWatch, session_lease, wait_for
from hub.state import open_store
from hub.tracing.retention import TracePurger

log = logging.getLogger(__name__)

T = TypeVar("T")


def _end(part: T | None, end: Callable[[T], object]) -> T | None:
    """Stop or close ``part`` if there is one; return the None to put in its place."""
    if part is not None:
        end(part)
    return None


def _close_writer(writer: InfluxWriter) -> None:
    writer.close()


# The cyclic collector's thresholds for the hub process. Ingest keeps tens of thousands
# of young objects in flight (messages, events, points) beside many long-lived ones;
# with Python's default (700, 10, 10) the collector walked them so often that it cost
# about a tenth of the hub's time per message (bench/hub_ingest). Reference counting
# frees all of that; the hub's rare cycles wait a little longer.
GC_THRESHOLDS = (50_000, 20, 100)


@dataclass(frozen=True, slots=True)
class HubParts:
    """What a derivation factory may use."""

    config: HubConfig
    engine: Engine
    metrics: HubMetrics


DerivationFactory = Callable[[HubParts], Derivation]
ALERTS = "alerts"  # the default derivation: the hub's own rules and alerts


def _create_database(influx: InfluxWriter) -> None:
    """Now rather than at the first write, so that the API answers empty lists, not errors,
    on a hub that has heard no node yet."""
    try:
        influx.create_database()
    except InfluxError as exc:
        log.warning("InfluxDB database not created yet (retried at the first write): %s", exc)


class HubService:
    def __init__(
        self,
        config: HubConfig,
        *,
        derivation: Derivation | DerivationFactory | str | None = ALERTS,
    ) -> None:
        self.config = config
        self._derivation = derivation
        self.alerting: Alerting | None = None
        self.api: ApiServer | None = None
        self.api_ctx: ApiContext | None = None
        self.downlink: HubPublisher | None = None
        self.rollout_runner: Periodic | None = None
        self.queries: InfluxV1 | None = None
        self.passes: PassDesk | None = None
        self.metrics = HubMetrics()
        self.engine: Engine | None = None
        self.influx: InfluxWriter | None = None
        self.ingest: Ingest | None = None
        self.dead_letters: DeadLetterStore | None = None
        self.metrics_port: int | None = None
        self.lease_watch: LeaseWatch | None = None
        self.purger: TracePurger | None = None

    def start(self, connect_timeout_s: float = 30.0) -> None:
        cfg = self.config
        gc.set_threshold(*GC_THRESHOLDS)
        try:
            cfg.data_dir.mkdir(parents=True, exist_ok=True)
            self.engine = open_store(cfg.resolved_state_url())
            if cfg.metrics.enabled:
                self.metrics_port = self.metrics.serve(cfg.metrics.host, cfg.metrics.port)
                log.info("metrics on http://%s:%d/metrics", cfg.metrics.host, self.metrics_port)
            lease = session_lease(self.engine, cfg.client_id, cfg.share_group)
            if lease is not None:
                wait_for(lease, cfg.lease_check_s)
                self.lease_watch = LeaseWatch(lease, cfg.lease_check_s)
                self.lease_watch.start()
            self.metrics.active.set(1)
            if cfg.passes.enabled:
                self.passes = PassDesk(
                    self.engine,
                    cfg.passes,
                    directory=cfg.data_dir / cfg.passes.directory,
                    lease_check_s=cfg.lease_check_s,
                )
            self.dead_letters = DeadLetterStore(self.engine)
            self.influx = open_writer(cfg.influx)
            _create_database(self.influx)
            self.ingest = Ingest(
                cfg, self.influx, metrics=self.metrics, dead_letters=self.dead_letters
            )
            self.ingest.derivation = self._build_derivation(self.engine)
            if self.alerting is not None:
                self.alerting.start(ticker=True)
            self.ingest.start(connect_timeout_s)
            self.purger = TracePurger(self._query_client(), cfg.tracing)
            self.purger.start()
            if cfg.api.enabled:
                self._start_api(self.engine)
        except BaseException:
            self.stop()
            raise
        # What starting made (modules imported on first use, tables, clients) lives as long
        # as the hub: out of the cyclic collector's sight, so that the collector's first
        # rounds under load do not walk it. A pause of tens of milliseconds there was the
        # longest wait on a fever's alert (bench/hub_ingest).
        gc.collect()
        gc.freeze()
        log.info(
            "hub %s consuming from %s:%d into %s (%s)",
            cfg.client_id,
            cfg.mqtt.host,
            cfg.mqtt.port,
            cfg.influx.url,
            cfg.influx.api,
        )
        lacks = self.lacks(where=True)
        if lacks:
            log.warning("the hub runs without: %s", "; ".join(lacks))

    def lacks(self, *, where: bool = False) -> list[str]:
        """What the hub lacks to do all of its work, one sentence each (for the start log
        and /readyz). ``where``: name the paths (the log; /readyz is public)."""
        out = []
        if self.passes is not None and not self.passes.has_signing_key():
            keys = str(self.passes.root / "keys") if where else "DATA_DIR/passes/keys"
            out.append(
                "a pass signing key (passes cannot be issued): create one with "
                f"`checkpoint passes keygen --keys {keys}`, no restart needed"
            )
        if self.config.influx.api == "v1":
            try:
                exists = self._query_client().database_exists()
            except InfluxError:
                exists = True  # unreachable: /readyz's influxdb check says so
            if not exists:
                out.append(
                    f"the InfluxDB database {self.config.influx.database!r} "
                    "(created at the first write)"
                )
        return out

    def _build_derivation(self, engine: Engine) -> Derivation | None:
        d = self._derivation
        if d == ALERTS:
            self.alerting = Alerting(
                self.config,
                self.influx,
                engine=engine,
                revoked_at=self.passes.revoked_at if self.passes is not None else None,
                intake_full_at=self.ingest.full_at if self.ingest is not None else None,
            )
            self.metrics.set_open_alerts_source(self.alerting.open_alerts)
            return self.alerting.derivation
        if d is None or isinstance(d, str) or hasattr(d, "derive"):
            return d if not isinstance(d, str) else None
        return d(HubParts(self.config, engine, self.metrics))

    def _query_client(self) -> InfluxV1:
        """InfluxQL reads (the API): InfluxDB 2.x/3.x answer InfluxQL on their v1-compatible
        /query too (with a DBRP mapping)."""
        if self.queries is None:
            self.queries = open_v1(self.config.influx)
        return self.queries

    def _start_api(self, engine: Engine) -> None:
        cfg = self.config
        self.downlink = HubPublisher(cfg.mqtt, f"{cfg.client_id}-api", connect_wait_s=5.0)
        self.downlink.start()
        ingest, downlink, queries = self.ingest, self.downlink, self._query_client()
        passes = self.passes
        rollouts = Rollouts(
            engine,
            queries,
            downlink,
            signer=passes.keys.anchor_signer if passes is not None else None,
        )
        ctx = ApiContext(
            engine,
            influx=queries,
            downlink=downlink,
            alerts=self.alerting.store if self.alerting is not None else None,
            passes=self.passes,
            releases=ReleaseStore(
                engine, cfg.data_dir / cfg.releases.directory, cfg.releases.public_key
            ),
            rollouts=rollouts,
            releases_max_bytes=cfg.releases.max_upload_bytes,
            probes={
                "broker": lambda: ingest is not None and ingest.connected,
                "influxdb": queries.ping,
            },
            metrics=lambda: (self.metrics.render(), CONTENT_TYPE_LATEST),
            stream_poll_s=cfg.api.stream_poll_s,
            console=cfg.console,
            reports=cfg.reports,
            wards=cfg.wards,
            lacks=self.lacks,
        )
        self.api_ctx = ctx
        self.api = ApiServer(create_app(ctx), cfg.api)
        self.api.start()
        log.info("API on http://%s:%d", cfg.api.host, self.api.port)
        if not downlink.wait_connected(10.0):
            log.warning("broker not reachable yet: levels and trust documents follow later")
        republish_levels(engine, downlink, self.passes.levels_signer() if self.passes else None)
        if self.passes is not None:
            self.passes.start(TrustPublisher(downlink))
        # A rollout moves on (or pauses) by itself, without waiting for an API call.
        self.rollout_runner = Periodic("rollouts", cfg.releases.step_s, rollouts.step)
        self.rollout_runner.start()

    def healthy(self) -> bool:
        """For the systemd watchdog: every lane's derive and store threads are alive and
        its session process can run (otherwise nothing is stored any more; a restart is
        the cure)."""
        return self.ingest is not None and self.ingest.writer_alive

    def stop(self) -> None:
        """Write what can be written, acknowledge it, then disconnect; idempotent."""
        if self.lease_watch is not None:
            self.lease_watch.stop()  # no more checks; the lease itself goes last
        if self.api_ctx is not None:
            self.api_ctx.closing.set()  # open alert streams end, their clients reconnect
        self.api = _end(self.api, ApiServer.stop)
        self.rollout_runner = _end(self.rollout_runner, Periodic.stop)
        if self.passes is not None:
            self.passes.stop()
        self.downlink = _end(self.downlink, HubPublisher.stop)
        self.purger = _end(self.purger, TracePurger.stop)
        self.ingest = _end(self.ingest, Ingest.stop)
        self.alerting = _end(self.alerting, Alerting.stop)
        self.queries = _end(self.queries, InfluxV1.close)
        self.metrics.close()
        self.influx = _end(self.influx, _close_writer)
        if self.lease_watch is not None:
            self.lease_watch.lease.release()  # now a standby may take the session
            self.lease_watch = None
        self.engine = _end(self.engine, Engine.dispose)
