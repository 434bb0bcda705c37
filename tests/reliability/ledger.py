"""Exact accounting for the reliability scenarios: what was emitted against what InfluxDB
holds, and which alerts fired.

Every scenario ends in one :class:`ScenarioResult`. The suite's conftest collects them and,
when ``CHECKPOINT_RELIABILITY_REPORT`` names a file, writes them there as JSON, which is how
``./run bench reliability`` prints its table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hub.influx.v1 import InfluxV1

# Every measurement a node's events land in (docs/influx-schema.md); alerts are not events.
EVENT_MEASUREMENTS = ("reading", "passage", "barrier", "health", "config_ack", "command_result")


@dataclass
class ScenarioResult:
    scenario: str
    emitted: int
    stored: int
    missing: int
    duplicated: int
    unexpected: int = 0  # stored events nobody emitted in this scenario
    alerts_expected: list[str] = field(default_factory=list)
    alerts_fired: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def alerts_ok(self) -> bool:
        return set(self.alerts_expected) <= set(self.alerts_fired)

    @property
    def ok(self) -> bool:
        return (
            self.missing == 0 and self.duplicated == 0 and self.unexpected == 0 and (self.alerts_ok)
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "alerts_ok": self.alerts_ok, "ok": self.ok}

    def check(self) -> None:
        """Fail the test with the whole account, so a failure says what went missing."""
        assert self.ok, self.as_dict()


def stored_event_ids(
    client: InfluxV1,
    *,
    nodes: Sequence[str] | None = None,
    measurements: Sequence[str] = EVENT_MEASUREMENTS,
) -> list[str]:
    """Every stored point's event id (one entry per point: a duplicate shows twice).

    ``nodes`` narrows to those node tags, for a scenario sharing a database with others.
    """
    ids: list[str] = []
    where = ""
    params: dict[str, Any] = {}
    if nodes:
        where = " WHERE " + " OR ".join(f'"node" = $n{i}' for i in range(len(nodes)))
        params = {f"n{i}": node for i, node in enumerate(nodes)}
    for measurement in measurements:
        rows = client.query(f'SELECT "event_id" FROM "{measurement}"{where}', params or None)
        ids.extend(str(row["event_id"]) for row in rows)
    return ids


def account(
    scenario: str,
    emitted: Iterable[str],
    stored: Iterable[str],
    *,
    alerts_expected: Iterable[str] = (),
    alerts_fired: Iterable[str] = (),
    **notes: Any,
) -> ScenarioResult:
    """Compare emitted event ids with stored ones (each stored point counted)."""
    sent = list(emitted)
    sent_set = set(sent)
    if len(sent_set) != len(sent):
        raise ValueError(f"{scenario}: the emitted ids repeat; the account would be wrong")
    held = Counter(stored)
    return ScenarioResult(
        scenario=scenario,
        emitted=len(sent),
        stored=sum(n for event_id, n in held.items() if event_id in sent_set),
        missing=len(sent_set - held.keys()),
        duplicated=sum(n - 1 for event_id, n in held.items() if n > 1),
        unexpected=sum(n for event_id, n in held.items() if event_id not in sent_set),
        alerts_expected=sorted(set(alerts_expected)),
        alerts_fired=sorted(set(alerts_fired)),
        notes=notes,
    )


def fired_alert_kinds(client: InfluxV1, *, ward: str | None = None) -> list[str]:
    """The kinds of alert the hub raised, read back from its ``alert`` measurement (what
    Grafana draws), so an alert counts only once it reached the command centre's view."""
    where, params = ("", None) if ward is None else (' WHERE "ward" = $ward', {"ward": ward})
    rows = client.query(f'SELECT "alert_id", "kind" FROM "alert"{where}', params)
    return sorted({str(row["kind"]) for row in rows})
