"""How alerts are kept, escalated, damped and delivered (``alerts:`` in the hub config)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from checkpoint.settings.base import StrictModel
from checkpoint.settings.fields import HttpUrl
from hub.alerts.chain import EscalationConfig


class WebhookSettings(StrictModel):
    url: HttpUrl = Field(default="http://127.0.0.1:9000/alerts", description="POSTed AlertMessage")
    name: str = Field(
        default="",
        pattern=r"^[a-z0-9_-]{0,63}$",
        description="How escalation tiers name it ('webhook:<name>'); empty: not named",
    )
    changes: bool = Field(
        default=True,
        description="Every alert change (new, updated, escalated, acknowledged, resolved); "
        "false: only the notices of escalation tiers that name it",
    )
    wards: list[str] = Field(
        default_factory=list, description="Only these wards' alerts; empty: every ward"
    )
    timeout_s: float = Field(default=5.0, gt=0, description="Per attempt")


class AlertsConfig(StrictModel):
    escalation: EscalationConfig = Field(
        default_factory=EscalationConfig,
        description="Re-notification and the escalation chain of unacknowledged alerts",
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
    poll_s: float = Field(
        default=1.0,
        gt=0,
        description="Delivery, and the escalation chain, look for due work this often",
    )
    tick_s: float = Field(
        default=5.0, gt=0, le=60, description="The runtime calls Alerting.tick this often"
    )
    dedupe_keep_s: float = Field(
        default=8 * 24 * 3600, gt=0, description="Event ids remembered against redelivery"
    )

    @model_validator(mode="after")
    def _named_webhooks_exist(self) -> Self:
        names = [hook.name for hook in self.webhooks if hook.name]
        if len(set(names)) != len(names):
            raise ValueError("alerts.webhooks: two webhooks have the same name")
        for policy in self.escalation.policies():
            for tier in policy.tiers:
                for name in tier.webhooks():
                    if name not in names:
                        raise ValueError(
                            f"escalation tier {tier.name!r} names webhook:{name}, "
                            "but no alerts.webhooks entry has that name"
                        )
        return self

    def webhook_index(self, name: str) -> int:
        """The position of the webhook called ``name`` (its delivery target)."""
        return next(i for i, hook in enumerate(self.webhooks) if hook.name == name)
