"""Prometheus metrics of the hub itself, in a registry of its own per hub instance.

Not the process-global registry: tests and the benchmark run several hubs in one
process, and each must count only its own traffic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

# Batches are written every 0.2 s by default; a slow InfluxDB shows in the upper buckets.
_BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HubMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.received = Counter(
            "checkpoint_hub_messages_received", "MQTT messages received", registry=r
        )
        self.stored = Counter(
            "checkpoint_hub_events_stored",
            "Events written to InfluxDB and acknowledged",
            registry=r,
        )
        self.statuses = Counter(
            "checkpoint_hub_statuses", "Node status messages processed", registry=r
        )
        self.rejected = Counter(
            "checkpoint_hub_messages_rejected",
            "Messages refused and dead-lettered, by reason",
            ["reason"],
            registry=r,
        )
        self.duplicates = Counter(
            "checkpoint_hub_duplicates",
            "Events received again after they were stored (redelivery, replay)",
            registry=r,
        )
        self.write_errors = Counter(
            "checkpoint_hub_write_errors",
            "Failed attempts to make a batch durable, by what failed",
            ["target"],
            registry=r,
        )
        self.batch_seconds = Histogram(
            "checkpoint_hub_batch_seconds",
            "Time to make a batch durable (InfluxDB, dead letters, derivation), retries included",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "checkpoint_hub_batch_messages",
            "Messages per batch",
            buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000),
            registry=r,
        )
        self.pending = Gauge(
            "checkpoint_hub_pending_messages",
            "Messages received but not yet acknowledged (the broker holds the rest of the backlog)",
            registry=r,
        )
        self.connected = Gauge(
            "checkpoint_hub_connected",
            "1 while subscribed at the broker (ready to receive), else 0",
            registry=r,
        )
        self.active = Gauge(
            "checkpoint_hub_active",
            "1 while this instance holds its session lease and runs ingest, 0 while it "
            "waits as a standby (PostgreSQL state store, no share_group)",
            registry=r,
        )
        self.open_alerts = Gauge(
            "checkpoint_hub_open_alerts",
            "Alerts not yet resolved (open or acknowledged)",
            registry=r,
        )
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def set_pending_source(self, source: Callable[[], float]) -> None:
        """Read the backlog at scrape time instead of updating it per message."""
        self.pending.set_function(source)

    def set_open_alerts_source(self, source: Callable[[], float]) -> None:
        """For the alerts part: read the number of unresolved alerts at scrape time
        (``HubMetrics.set_open_alerts_source(alerting.open_alerts)``)."""
        self.open_alerts.set_function(source)

    def set_open_alerts(self, count: int) -> None:
        """... or push it whenever it changes."""
        self.open_alerts.set(count)

    def render(self) -> bytes:
        """The exposition text, as /metrics serves it."""
        return generate_latest(self.registry)

    def serve(self, host: str, port: int) -> int:
        """Serve /metrics in a daemon thread; return the port (useful with port 0)."""
        server, thread = start_http_server(port, host, registry=self.registry)
        self._server, self._thread = server, thread
        return int(server.server_address[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
