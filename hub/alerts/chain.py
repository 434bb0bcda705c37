"""The escalation chain (``alerts.escalation``): who hears an unacknowledged alert, and when.

A policy per severity: the chain's tiers in order (duty officer, ward commander, district
command centre), each with the targets that reach it; how often the current tier hears the
alert again (``renotify_every_s``); how long a tier has before the next one is called
(``escalate_after_s``). ``wards.<ward>.<severity>`` overrides only the fields it names.

``schedule`` is the schedule as a pure function of an alert's stored state (tier, since when),
so a restarted hub, or another hub on the same state store, computes the same times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field

from checkpoint.settings.base import StrictModel
from hub.alerts.signals import Severity

CONSOLE = "console"
MQTT = "mqtt"
WEBHOOK = "webhook:"
TARGET_PATTERN = r"^(mqtt|console|webhook:[a-z0-9_-]{1,63})$"


class Tier(StrictModel):
    name: str = Field(
        min_length=1, max_length=64, description="Who this tier reaches, as people read it"
    )
    targets: list[Annotated[str, Field(pattern=TARGET_PATTERN)]] = Field(
        default_factory=lambda: [MQTT, CONSOLE],
        min_length=1,
        description="'mqtt': the ward's alert topic; 'console': the hub console (the alert's "
        "history and live stream); 'webhook:<name>': the webhook of that name in "
        "alerts.webhooks (chat and SMS bridges)",
    )

    def webhooks(self) -> list[str]:
        """The names of the webhooks this tier reaches."""
        return [t.removeprefix(WEBHOOK) for t in self.targets if t.startswith(WEBHOOK)]


def _default_tiers() -> list[Tier]:
    return [
        Tier(name="Trực ban"),  # duty officer
        Tier(name="Chỉ huy phường"),  # ward commander
        Tier(name="Trung tâm chỉ huy quận"),  # district command centre
    ]


RENOTIFY = "While unacknowledged, the current tier hears the alert again this often; null: never"
ESCALATE = "Unacknowledged this long at a tier: the next tier is called; null: never"


class SeverityPolicy(StrictModel):
    renotify_every_s: float | None = Field(default=None, gt=0, description=RENOTIFY)
    escalate_after_s: float | None = Field(default=None, gt=0, description=ESCALATE)
    tiers: list[Tier] = Field(
        default_factory=_default_tiers,
        min_length=1,
        description="The chain in order; the first hears the alert when it opens",
    )


class CriticalPolicy(SeverityPolicy):
    renotify_every_s: float | None = Field(default=300, gt=0, description=RENOTIFY)
    escalate_after_s: float | None = Field(default=900, gt=0, description=ESCALATE)


class WarningPolicy(SeverityPolicy):
    renotify_every_s: float | None = Field(default=900, gt=0, description=RENOTIFY)
    escalate_after_s: float | None = Field(default=1800, gt=0, description=ESCALATE)


class WardEscalation(StrictModel):
    """A ward's overrides: each block names only the fields it changes, the others come
    from the same severity's policy above."""

    critical: SeverityPolicy | None = Field(default=None, description="Critical alerts")
    warning: SeverityPolicy | None = Field(default=None, description="Warnings")
    info: SeverityPolicy | None = Field(default=None, description="Information")


class EscalationConfig(StrictModel):
    critical: CriticalPolicy = Field(default_factory=CriticalPolicy, description="Critical alerts")
    warning: WarningPolicy = Field(default_factory=WarningPolicy, description="Warnings")
    info: SeverityPolicy = Field(
        default_factory=SeverityPolicy, description="Information: told once, to the first tier"
    )
    wards: dict[str, WardEscalation] = Field(
        default_factory=dict, description="Per-ward overrides, by ward id"
    )

    def for_ward(self, ward_id: str, severity: Severity) -> SeverityPolicy:
        base: SeverityPolicy = getattr(self, severity)
        ward = self.wards.get(ward_id)
        override: SeverityPolicy | None = getattr(ward, severity) if ward is not None else None
        if override is None:
            return base
        return base.model_copy(update={k: getattr(override, k) for k in override.model_fields_set})

    def policies(self) -> list[SeverityPolicy]:
        found = [self.critical, self.warning, self.info]
        for ward in self.wards.values():
            found += [p for p in (ward.critical, ward.warning, ward.info) if p is not None]
        return found


@dataclass(frozen=True, slots=True)
class Schedule:
    """Where an alert stands at a moment: its tier, since when, and its next notice."""

    tier: int
    tier_at: datetime
    next_at: datetime | None


def schedule(policy: SeverityPolicy, tier: int, tier_at: datetime, now: datetime) -> Schedule:
    """The tier an unacknowledged alert is at ``now`` and when its next notice falls.

    Notices fall on a grid anchored where the tier began (``tier_at + k * renotify_every_s``)
    and the next tier begins at ``tier_at + escalate_after_s``: a notice sent late (a busy
    or restarted hub) does not shift the ones after it, and tiers passed while the hub was
    down are caught up at once, so one notice goes out, not a burst.
    """
    last = len(policy.tiers) - 1
    tier = min(tier, last)  # the policy may have lost tiers since
    escalate = policy.escalate_after_s
    while escalate is not None and tier < last and tier_at + timedelta(seconds=escalate) <= now:
        tier += 1
        tier_at += timedelta(seconds=escalate)
    times: list[datetime] = []
    every = policy.renotify_every_s
    if every is not None:
        k = math.floor((now - tier_at).total_seconds() / every) + 1
        if tier_at + timedelta(seconds=k * every) <= now:  # float rounding: never the past
            k += 1
        times.append(tier_at + timedelta(seconds=k * every))
    if escalate is not None and tier < last:
        times.append(tier_at + timedelta(seconds=escalate))
    return Schedule(tier, tier_at, min(times) if times else None)
