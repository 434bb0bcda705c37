"""The real AlertDerivation on a SQLite state store, with what a rule test needs to drive
and inspect it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from checkpoint.contract import Event
from hub.alerts.config import AlertsConfig
from hub.alerts.model import Alert
from hub.derive import AlertDerivation
from hub.rules.config import RulesConfig
from tests.hub.traffic import Clock


class Hub:
    """The derivation plus what a test needs to drive and inspect it."""

    def __init__(self, engine: Engine, clock: Clock, rules: RulesConfig) -> None:
        self.engine = engine
        self.clock = clock
        self.rules = rules
        self.intake_full_at: datetime | None = None  # what the ingest lanes would report
        self.derivation = AlertDerivation(
            engine, rules, AlertsConfig(), clock=clock, intake_full_at=lambda: self.intake_full_at
        )

    def feed(self, *events: Event) -> None:
        self.derivation.derive(list(events), [])

    def tick(self) -> None:
        self.derivation.tick()

    def active(self, kind: str | None = None) -> list[Alert]:
        found = self.derivation.store.find(active=True)
        return [a for a in found if kind is None or a.kind == kind]

    def resolved(self, kind: str) -> list[Alert]:
        return [a for a in self.derivation.store.find(active=False) if a.kind == kind]

    def restart(self) -> Hub:
        return Hub(self.engine, self.clock, self.rules)
