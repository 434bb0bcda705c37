"""What a rule says about the world: a condition holds (Raise) or no longer holds (Clear).

Rules only produce signals; the alert store turns them into alerts (one active alert per
subject and kind) and decides what the command centre hears.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["info", "warning", "critical"]


@dataclass(frozen=True, slots=True)
class Subject:
    """What an alert is about: a node, or a whole checkpoint (node_id None)."""

    ward_id: str
    checkpoint_id: str | None
    node_id: str | None = None

    @property
    def key(self) -> str:
        if self.node_id is not None:
            return f"node:{self.node_id}"
        return f"checkpoint:{self.checkpoint_id}"


@dataclass(frozen=True, slots=True)
class Raise:
    kind: str
    severity: Severity
    subject: Subject
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    # Incidents (a fever, a cloned pass) have no "condition cleared" event: they resolve
    # themselves after this long without a new occurrence. None: only a Clear resolves it.
    resolve_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Clear:
    kind: str
    subject: Subject
    reason: str


Signal = Raise | Clear
