"""All rules together: dispatch events, statuses and time to each, collect signals."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from checkpoint.contract import Event, NodeStatus
from hub.alerts.signals import Signal
from hub.rules.barrier import BarrierRule
from hub.rules.base import Rule
from hub.rules.config import RulesConfig
from hub.rules.faults import NodeFaultRule
from hub.rules.fever import FeverRule
from hub.rules.health import NodeHealthRule
from hub.rules.nodes import NodeOfflineRule
from hub.rules.overrides import OverrideRateRule
from hub.rules.passback import PassbackRule
from hub.rules.passes import (
    ClonedPassRule,
    RefusedBurstRule,
    RevokedAt,
    RevokedPassAdmittedRule,
)
from hub.rules.shifts import UnmannedRule
from hub.rules.thermometer import ThermometerRule
from hub.rules.traffic import TrafficRule
from hub.rules.update import UpdateFailedRule

log = logging.getLogger(__name__)

RULES: tuple[type[Rule], ...] = (
    FeverRule,
    ThermometerRule,
    RefusedBurstRule,
    ClonedPassRule,
    BarrierRule,
    NodeOfflineRule,
    NodeHealthRule,
    NodeFaultRule,
    TrafficRule,
    UpdateFailedRule,
    OverrideRateRule,
    UnmannedRule,
    PassbackRule,
)


class RuleSet:
    def __init__(
        self,
        config: RulesConfig,
        *,
        revoked_at: RevokedAt | None = None,
        intake_full_at: Callable[[], datetime | None] | None = None,
    ) -> None:
        self.config = config
        self.rules: list[Rule] = [cls(config) for cls in RULES] if config.enabled else []
        for rule in self.rules:
            if isinstance(rule, NodeHealthRule) and intake_full_at is not None:
                rule.intake_full_at = intake_full_at  # the hub's own delay (health.py)
        if config.enabled and revoked_at is not None:
            # Needs the hub's revocation list, which only a hub that issues passes has.
            self.rules.append(RevokedPassAdmittedRule(config, revoked_at))
        self.errors: dict[str, int] = {}  # rule class name -> failures, for metrics
        self._for_type: dict[type, list[Rule]] = {}

    def _rules_for(self, kind: type) -> list[Rule]:
        """The rules that look at events of ``kind``, in the rules' order."""
        found = self._for_type.get(kind)
        if found is None:
            found = self._for_type[kind] = [
                r for r in self.rules if r.consumes is None or issubclass(kind, r.consumes)
            ]
        return found

    def on_events(self, events: Iterable[Event], now: datetime) -> list[Signal]:
        out: list[Signal] = []
        for event in events:
            for rule in self._rules_for(type(event)):
                out += self._guard(rule, rule.on_event, event, now)
        return out

    def on_statuses(self, statuses: Iterable[NodeStatus], now: datetime) -> list[Signal]:
        out: list[Signal] = []
        for status in statuses:
            for rule in self.rules:
                out += self._guard(rule, rule.on_status, status, now)
        return out

    def tick(self, now: datetime) -> list[Signal]:
        out: list[Signal] = []
        for rule in self.rules:
            out += self._guard(rule, _ticker(rule), None, now)
        return out

    def _guard(
        self,
        rule: Rule,
        hook: Callable[[Any, datetime], list[Signal]],
        item: Any,
        now: datetime,
    ) -> list[Signal]:
        """A rule that fails on one input must not stall ingest (the batch would never be
        acknowledged) nor silence the other rules: count it, log it now and then, go on."""
        try:
            return hook(item, now)
        except Exception:  # a bug in one rule must not stop the hub
            name = type(rule).__name__
            self.errors[name] = self.errors.get(name, 0) + 1
            if self.errors[name] in (1, 10, 100) or self.errors[name] % 1000 == 0:
                log.exception("rule %s failed (%d times so far)", name, self.errors[name])
            return []

    def dirty_state(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for rule in self.rules:
            if rule.state_prefix:
                out |= {rule.state_prefix + k: v for k, v in rule.dirty_state().items()}
        return out

    def load_state(self, items: Iterable[tuple[str, Any]]) -> None:
        by_prefix = {r.state_prefix: r for r in self.rules if r.state_prefix}
        for key, value in items:
            prefix, _, rest = key.partition(":")
            rule = by_prefix.get(prefix + ":")
            if rule is not None:
                rule.load_state(rest, value)


def _ticker(rule: Rule) -> Callable[[Any, datetime], list[Signal]]:
    def tick(_item: Any, now: datetime) -> list[Signal]:
        return rule.tick(now)

    return tick
