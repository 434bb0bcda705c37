"""The hub's config file (``checkpoint hub run --config HUB.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from checkpoint.contract.models import Id
from checkpoint.settings.base import StrictModel
from checkpoint.settings.fields import Host, HttpUrl, kind_field
from checkpoint.settings.mqtt import MqttSettings
from hub.alerts.config import AlertsConfig
from hub.api.settings import ApiSettings
from hub.console.settings import ConsoleSettings
from hub.passes.settings import PassesSettings
from hub.releases.settings import ReleasesSettings
from hub.reports.settings import ReportsSettings
from hub.rules.config import RulesConfig
from hub.tracing.settings import TracingSettings
from hub.wards import WardSettings


class InfluxSettings(StrictModel):
    url: HttpUrl = Field(default="http://127.0.0.1:8086", description="InfluxDB base URL")
    api: Literal["v1", "v2"] = Field(
        default="v1", description="v1: InfluxDB 1.x HTTP API; v2: 2.x/3.x via influxdb-client"
    )
    database: str = Field(default="checkpoint", description="v1 database (v2: bucket)")
    username: str | None = Field(default=None, description="v1 user name")
    password_credential: str | None = Field(
        default=None, description="v1 password / v2 token, from $CREDENTIALS_DIRECTORY"
    )
    org: str | None = Field(default=None, description="v2 organisation")
    timeout_s: float = Field(default=10.0, gt=0, le=300, description="Per write request")


class BatchSettings(StrictModel):
    max_points: int = Field(default=5000, ge=1, description="Write when this many are pending")
    max_interval_s: float = Field(default=0.2, gt=0, le=10, description="... or this old")
    priority_interval_s: float = Field(
        default=0.005,
        ge=0,
        le=10,
        description="The priority lane derives what has arrived at once after a quiet spell, "
        "and under load at most one batch this often, so that many passages share one "
        "transaction (0: each arrival at once)",
    )
    receive_maximum: int = Field(
        default=2000,
        ge=1,
        le=65535,
        description="MQTT 5 receive maximum: unacknowledged messages the broker may send us; "
        "bounds the hub's memory while InfluxDB is down",
    )
    retry_initial_s: float = Field(
        default=0.2, gt=0, le=60, description="First wait after a failed write"
    )
    retry_max_s: float = Field(
        default=10.0, gt=0, le=600, description="Longest wait between write retries (backoff)"
    )


class IngestSettings(StrictModel):
    max_future_s: float = Field(
        default=300.0, gt=0, description="Refuse events dated this far ahead of the hub's clock"
    )
    max_past_s: float = Field(
        default=30 * 24 * 3600.0,
        gt=0,
        description="Refuse events older than this; nodes may hold days of backlog offline",
    )
    recent_ids: int = Field(
        default=200_000, ge=0, description="Event ids remembered to count redeliveries (0: off)"
    )
    dead_letter_max_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Raw payload kept per dead letter, at most"
    )
    priority_lane: bool = Field(
        default=True,
        description="Passages, barrier alarms and statuses on a session of their own "
        "(client id <client_id>-priority), so a backlog of readings never delays them",
    )
    confirm_interval_s: float = Field(
        default=0.5,
        gt=0,
        le=10,
        description="How often the hub tells each node which of its events are durable "
        "(the contract's confirm message, one per node with news); the node deletes them "
        "from its outbox and sends again only after drain.confirm_timeout_s",
    )
    reject_log_per_min: int = Field(
        default=20, ge=1, description="Reject log lines per reason and minute; the rest counted"
    )
    node_max_per_minute: int = Field(
        default=3000,
        ge=0,
        description="Events one node may make per minute of its own clock (their ts); past "
        "it they are dead-lettered as rate_limited, so a flooding node cannot starve the "
        "others. A backlog drained after an outage was made over hours and passes (0: no "
        "limit)",
    )


class MetricsSettings(StrictModel):
    enabled: bool = Field(default=True, description="Serve Prometheus metrics")
    host: Host = Field(default="127.0.0.1", description="Address /metrics listens on")
    port: int = Field(default=9464, ge=0, le=65535, description="0: any free port")


class HubConfig(StrictModel):
    kind: Literal["hub"] = kind_field("hub")
    client_id: Id = Field(
        default="checkpoint-hub", description="Fixed: the broker keeps our session"
    )
    share_group: Id | None = Field(
        default=None, description="MQTT 5 shared-subscription group for several hub instances"
    )
    lease_check_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="With PostgreSQL: how often a standby tries to take the session lease "
        "and any instance the trust-publisher lease, and how often a holder checks its own",
    )
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0, description="Broker keeps backlog")
    data_dir: Path = Field(
        default=Path("."),
        description="Where the hub keeps its files; relative SQLite paths are resolved here",
    )
    state_url: str = Field(
        default="sqlite:///hub-state.db",
        description="State store (alerts, dead letters): sqlite:///FILE or "
        "postgresql+psycopg://USER@HOST:PORT/DB",
    )
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    api: ApiSettings = Field(default_factory=ApiSettings)
    passes: PassesSettings = Field(default_factory=PassesSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    reports: ReportsSettings = Field(default_factory=ReportsSettings)
    releases: ReleasesSettings = Field(default_factory=ReleasesSettings)
    wards: dict[Id, WardSettings] = Field(
        default_factory=dict,
        description="Each ward's full name and shift plan, by ward id (provisioning writes "
        "the ward file's `name`)",
    )

    def resolved_state_url(self) -> str:
        """``state_url`` with a relative SQLite file placed in ``data_dir``."""
        prefix = "sqlite:///"
        if self.state_url.startswith(prefix):
            path = self.state_url[len(prefix) :]
            if path and path != ":memory:" and not Path(path).is_absolute():
                return prefix + str((self.data_dir / path).resolve())
        return self.state_url
