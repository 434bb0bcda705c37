"""What the API is built from: the app factory takes these collaborators, so tests build it
against the real state store, broker and InfluxDB."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from hub.alerts.store import AlertStore
from hub.api.audit import AuditLog
from hub.api.keys import KeyStore
from hub.api.sent import SentLog
from hub.console.settings import ConsoleSettings
from hub.influx.v1 import InfluxV1
from hub.passes.desk import PassDesk
from hub.publisher import Publisher
from hub.releases.rollout import Rollouts
from hub.releases.store import ReleaseStore
from hub.reports.settings import ReportsSettings
from hub.wards import WardSettings

Probe = Callable[[], bool]


def store_probe(engine: Engine) -> Probe:
    def probe() -> bool:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False
        return True

    return probe


@dataclass
class ApiContext:
    engine: Engine
    influx: InfluxV1 | None = None
    downlink: Publisher | None = None
    alerts: AlertStore | None = None
    passes: PassDesk | None = None
    releases: ReleaseStore | None = None
    rollouts: Rollouts | None = None
    releases_max_bytes: int = 500_000_000
    stream_poll_s: float = 1.0  # how often the alert stream looks for changes
    stream_max_s: float = 3600.0  # a stream ends after this; EventSource reconnects by itself
    # A comment this often on a quiet stream: proxies and NAT drop idle connections, and a
    # client sees a dead one by the missing keep-alive.
    stream_keepalive_s: float = 15.0
    probes: Mapping[str, Probe] = field(default_factory=dict)
    metrics: Callable[[], tuple[bytes, str]] | None = None  # (body, content type)
    reports: ReportsSettings = field(default_factory=ReportsSettings)
    wards: Mapping[str, WardSettings] = field(default_factory=dict)  # names, shift plans
    # What the hub lacks to do all of its work (a signing key ...), one sentence each.
    lacks: Callable[[], list[str]] = field(default=lambda: [])
    levels: frozenset[str] = field(
        default_factory=lambda: frozenset(
            {"green", "yellow", "orange", "red", "level1", "level2", "level3", "level4", "level5"}
        )
    )  # the zone policy's level names
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    # Set when the API stops: open streams end at once (a client reconnects to the next
    # hub) instead of holding uvicorn's shutdown.
    closing: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.keys = KeyStore(self.engine)
        self.audit = AuditLog(self.engine)
        self.sent = SentLog(self.engine)
        self.probes = {"state_store": store_probe(self.engine), **self.probes}
