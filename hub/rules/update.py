"""A node that refused a release or rolled one back: the rollout paused, someone must look.

Cleared when that node reports a release applied."""

from __future__ import annotations

from datetime import datetime

from checkpoint.contract import Event, UpdateReport
from checkpoint.contract.models import UpdateStatus
from hub.alerts.signals import Clear, Raise, Signal
from hub.rules.base import Rule, node_subject

KIND = "update_failed"


class UpdateFailedRule(Rule):
    consumes = (UpdateReport,)

    def on_event(self, event: Event, now: datetime) -> list[Signal]:
        if not isinstance(event, UpdateReport):
            return []
        if event.status is UpdateStatus.APPLIED:
            return [Clear(KIND, node_subject(event), f"{event.to_version} applied")]
        if event.status not in (UpdateStatus.REFUSED, UpdateStatus.ROLLED_BACK):
            return []
        what = "rolled back" if event.status is UpdateStatus.ROLLED_BACK else "refused"
        release = (
            event.from_version if event.status is UpdateStatus.ROLLED_BACK else event.to_version
        )
        return [
            Raise(
                KIND,
                "warning",
                node_subject(event),
                f"{event.node_id} {what} release {release}: {event.reason}",
                {
                    "release": release,
                    "status": event.status.value,
                    "reason": event.reason,
                    "detail": event.detail,
                    "event_id": event.id,
                },
            )
        ]
