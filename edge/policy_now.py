"""What the ward's policy means at this checkpoint now: its level, its planned shift and
whether it screens temperature, from the trust data the node holds (enforced offline)."""

from __future__ import annotations

from datetime import datetime

from checkpoint.contract.levels import ZoneLevels
from checkpoint.contract.node.config import NodeConfig
from checkpoint.passes.documents import ZonePolicy
from checkpoint.passes.policy import default_policy
from edge.trust.store import TrustStore


def level_for(config: NodeConfig, levels: ZoneLevels | None, policy: ZonePolicy | None) -> str:
    """The strictest level set on the checkpoint, its zone or any zone around it (the
    policy says how zones nest), else the configured one."""
    if levels is None or levels.ward_id != config.ward_id:
        return config.zone_level
    policy = policy or default_policy()
    found = policy.effective_level(levels.levels, config.checkpoint_id, config.zone_id)
    return config.zone_level if found is None else found


def shift_at(trust: TrustStore, config: NodeConfig, now: datetime) -> str | None:
    """The checkpoint's planned shift at ``now`` by the zone policy; None outside them."""
    policy = trust.policy
    shift = policy.shift_at(config.ward_id, config.checkpoint_id, now) if policy else None
    return shift.name if shift is not None else None


def screens(trust: TrustStore, config: NodeConfig, level: str, zone: str | None) -> bool:
    """Whether the rule at ``level`` in ``zone`` screens temperature (yes when unknown)."""
    rule = (trust.policy or default_policy()).rule(config.ward_id, level, zone)
    return rule is None or rule.temperature_check
