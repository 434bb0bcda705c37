"""The node's uplink settings: where the outbox lives, how big it may grow, how fast it
drains, and how the MQTT link backs off. A section of the node config (``uplink:``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from checkpoint.settings.base import StrictModel


class OutboxSettings(StrictModel):
    path: Path = Field(
        default=Path("/var/lib/checkpoint/outbox.sqlite"),
        description="SQLite file (systemd StateDirectory=checkpoint); on the SD card, not tmpfs",
    )
    max_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=64 * 1024,
        description="Payload bytes kept before telemetry (health, reading) gives way, then "
        "the oldest of everything; a day of a busy checkpoint is ~30 MB",
    )
    window: int = Field(
        default=100,
        ge=1,
        le=65535,
        description="Events published but not yet acknowledged (PUBACK) at any time",
    )
    rate_per_s: float = Field(
        default=500.0,
        gt=0,
        description="Drain rate limit after a reconnect, events per second, so that a ward's "
        "nodes coming back together do not flood the broker",
    )
    burst: int = Field(default=200, ge=1, description="Events the drain may send at once")
    confirm_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="A sent event is sent again once the hub has confirmed events of its "
        "type sent this much later (it was lost between broker and hub); every reconnect "
        "sends all unconfirmed events again",
    )
    disk_headroom_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=256 * 1024,
        description="Disk space the outbox leaves free for SQLite's WAL, so that a full disk "
        "can still give way and drain (the outbox then reports disk_full)",
    )


class LinkSettings(StrictModel):
    backoff_min_s: float = Field(default=1.0, gt=0, description="First reconnect delay")
    backoff_max_s: float = Field(default=120.0, gt=0, description="Reconnect delay ceiling")
    connect_timeout_s: float = Field(
        default=10.0, gt=0, description="Give up on a CONNACK after this long and back off"
    )

    @model_validator(mode="after")
    def _ordered(self) -> LinkSettings:
        if self.backoff_max_s < self.backoff_min_s:
            raise ValueError("backoff_max_s must be >= backoff_min_s")
        return self


class UplinkSettings(StrictModel):
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    link: LinkSettings = Field(default_factory=LinkSettings)
