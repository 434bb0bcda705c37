"""How alerts are kept, escalated, damped and delivered (``alerts:`` in the hub config)."""

from __future__ import annotations

from pydantic import Field

from checkpoint.settings.base import StrictModel
from checkpoint.settings.fields import HttpUrl


class WebhookSettings(StrictModel):
    url: HttpUrl = Field(default="http://127.0.0.1:9000/alerts", description="POSTed AlertMessage")
    wards: list[str] = Field(
        default_factory=list, description="Only these wards' alerts; empty: every ward"
    )
    timeout_s: float = Field(default=5.0, gt=0, description="Per attempt")


class AlertsConfig(StrictModel):
    escalate_after_s: float = Field(
        default=300, gt=0, description="Open and not acknowledged this long: escalate"
    )
    flap_window_s: float = Field(
        default=900, gt=0, description="A re-open within this long after a resolve is a flip"
    )
    flap_threshold: int = Field(
        default=3, ge=1, description="Flips after which an alert is flapping and held open"
    )
    flap_hold_s: float = Field(
        default=600, gt=0, description="A flapping alert resolves after staying clear this long"
    )
    history_days: float = Field(
        default=90, gt=0, description="Keep each alert change this long (stream, history)"
    )
    mqtt: bool = Field(default=True, description="Publish changes on the ward's alert topic")
    influx: bool = Field(default=True, description="Write the 'alert' measurement")
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    retry_initial_s: float = Field(default=1.0, gt=0, description="First delivery retry delay")
    retry_max_s: float = Field(default=300.0, gt=0, description="Retry delay doubles up to this")
    poll_s: float = Field(default=1.0, gt=0, description="Delivery looks for due work this often")
    tick_s: float = Field(
        default=5.0, gt=0, le=60, description="The runtime calls Alerting.tick this often"
    )
    dedupe_keep_s: float = Field(
        default=8 * 24 * 3600, gt=0, description="Event ids remembered against redelivery"
    )
