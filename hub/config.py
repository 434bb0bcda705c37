"""The hub's config file (``checkpoint hub run --config HUB.yaml``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from checkpoint.contract.models import Id
from checkpoint.settings.base import StrictModel
from checkpoint.settings.mqtt import MqttSettings
from hub.alerts.config import AlertsConfig
from hub.rules.config import RulesConfig


class InfluxSettings(StrictModel):
    url: str = Field(default="http://127.0.0.1:8086", description="InfluxDB base URL")
    api: Literal["v1", "v2"] = Field(
        default="v1", description="v1: InfluxDB 1.x HTTP API; v2: 2.x/3.x via influxdb-client"
    )
    database: str = Field(default="checkpoint", description="v1 database (v2: bucket)")
    username: str | None = None
    password_credential: str | None = Field(
        default=None, description="v1 password / v2 token, from $CREDENTIALS_DIRECTORY"
    )
    org: str | None = Field(default=None, description="v2 organisation")


class BatchSettings(StrictModel):
    max_points: int = Field(default=5000, ge=1, description="Write when this many are pending")
    max_interval_s: float = Field(default=0.2, gt=0, le=10, description="... or this old")
    receive_maximum: int = Field(
        default=2000,
        ge=1,
        le=65535,
        description="MQTT 5 receive maximum: unacknowledged messages the broker may send us; "
        "bounds the hub's memory while InfluxDB is down",
    )


class HubConfig(StrictModel):
    client_id: Id = Field(
        default="checkpoint-hub", description="Fixed: the broker keeps our session"
    )
    share_group: Id | None = Field(
        default=None, description="MQTT 5 shared-subscription group for several hub instances"
    )
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0, description="Broker keeps backlog")
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
