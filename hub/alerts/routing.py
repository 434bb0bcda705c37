"""Which delivery targets (``alert_outbox.target``) a change or a notice goes to.

Targets: ``mqtt`` (the ward's alert topic), ``influx`` (the ``alert`` measurement) and
``webhook:<index in alerts.webhooks>``. Changes go to every target that takes changes;
a notice goes to the targets of the tier it tells. The console needs no target: every
change and notice is in the alert's history (``alert_changes``), which its board reads.
"""

from __future__ import annotations

from checkpoint.contract.alerts import AlertChange
from hub.alerts.chain import MQTT, Tier
from hub.alerts.config import AlertsConfig

# A re-send tells the tier again; it changes nothing, so change subscribers (InfluxDB, chat
# bridges taking every change) do not hear it.
NOT_A_CHANGE = frozenset({AlertChange.RENOTIFIED})


def _webhook_takes(config: AlertsConfig, index: int, ward_id: str) -> bool:
    wards = config.webhooks[index].wards
    return not wards or ward_id in wards


def change_targets(config: AlertsConfig, ward_id: str) -> list[str]:
    found = []
    if config.mqtt:
        found.append(MQTT)
    if config.influx:
        found.append("influx")
    for i, hook in enumerate(config.webhooks):
        if hook.changes and _webhook_takes(config, i, ward_id):
            found.append(f"webhook:{i}")
    return found


def tier_targets(config: AlertsConfig, ward_id: str, tier: Tier) -> list[str]:
    """``alerts.mqtt: false`` turns the ward topic off for notices too; a webhook's ward
    filter holds for notices as for changes."""
    found = [MQTT] if config.mqtt and MQTT in tier.targets else []
    for name in tier.webhooks():
        index = config.webhook_index(name)
        if _webhook_takes(config, index, ward_id):
            found.append(f"webhook:{index}")
    return found


def targets(
    config: AlertsConfig, ward_id: str, change: AlertChange, told: Tier | None
) -> list[str]:
    """The targets of one message: the change's, and those of the tier it tells, if any."""
    found = [] if change in NOT_A_CHANGE else change_targets(config, ward_id)
    if told is not None:
        found += [t for t in tier_targets(config, ward_id, told) if t not in found]
    return found
