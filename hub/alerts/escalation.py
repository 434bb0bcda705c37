"""Re-notification and escalation of unacknowledged alerts, kept on the state store.

An alert gets a row in ``alert_escalation`` when it opens: the first tier of its ward's
chain for its severity (``alerts.escalation``, hub/alerts/chain.py) is told with the
``new`` change. Until someone acknowledges or resolves it, the row's ``next_at`` says when
the next notice falls: a re-send to the same tier (change ``renotified``) or the call of
the next tier (change ``escalated``). Acknowledging or resolving clears ``next_at`` in the
same transaction as the state change, so no notice follows it.

The schedule is computed from the stored row alone (``chain.schedule``), never kept in a
timer: a restarted hub carries on where the last one stopped, on the same times.

Several hubs on one PostgreSQL: a notice is claimed by a conditional UPDATE (the notice
count still the one read, ``next_at`` still due) in the transaction that queues the notice
for delivery. A hub that lost the race updates no row and sends nothing; ``SKIP LOCKED``
spares it from waiting on rows another hub is claiming.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from checkpoint.contract.alerts import AlertChange, AlertNotice, AlertState
from hub.alerts.chain import SeverityPolicy, Tier, schedule
from hub.alerts.config import AlertsConfig
from hub.alerts.model import Alert, opt_utc, utc
from hub.alerts.tables import alert_escalation, alerts

CLAIM_BATCH = 200


@dataclass(frozen=True, slots=True)
class Told:
    """A notice: which tier of the chain hears which change of an alert."""

    alert_id: str
    change: AlertChange
    tier: Tier
    notice: AlertNotice


@dataclass(frozen=True, slots=True)
class Standing:
    """Where an alert is in its chain (for the API and the console)."""

    tier: int
    tier_name: str
    notices: int
    last_at: datetime
    next_at: datetime | None


class EscalationChain:
    def __init__(self, config: AlertsConfig) -> None:
        self.config = config

    def policy(self, alert: Alert) -> SeverityPolicy:
        return self.config.escalation.for_ward(alert.ward_id, alert.severity)

    def start(self, conn: Connection, alert: Alert, now: datetime) -> Told:
        """A new alert: its first tier is told now (with the ``new`` change)."""
        policy = self.policy(alert)
        plan = schedule(policy, 0, now, now)
        conn.execute(
            insert(alert_escalation),  # values bound: built and compiled once
            {
                "alert_id": alert.id,
                "tier": 0,
                "tier_at": now,
                "notices": 1,
                "last_at": now,
                "next_at": plan.next_at,
            },
        )
        notice = _notice(policy.tiers[0], 1, 0, now, plan.next_at)
        return Told(alert.id, AlertChange.NEW, policy.tiers[0], notice)

    def stop(self, conn: Connection, alert_id: str) -> None:
        """Acknowledged or resolved: nobody needs telling again."""
        conn.execute(
            update(alert_escalation)
            .where(alert_escalation.c.alert_id == alert_id)
            .values(next_at=None)
        )

    def severity_changed(self, conn: Connection, alert: Alert, now: datetime) -> None:
        """An open alert's severity rose: its chain is now that severity's. The tier stays;
        the next notice falls where the new policy puts it (at once if a tier is overdue)."""
        e = alert_escalation
        row = conn.execute(select(e).where(e.c.alert_id == alert.id)).first()
        if row is None or alert.state != AlertState.OPEN:
            return
        plan = schedule(self.policy(alert), row.tier, utc(row.tier_at), now)
        next_at = now if plan.tier != row.tier else plan.next_at
        conn.execute(update(e).where(e.c.alert_id == alert.id).values(next_at=next_at))

    def claim_due(self, conn: Connection, now: datetime) -> list[Told]:
        """Claim the notices due at ``now`` (at most ``CLAIM_BATCH``), inside the caller's
        transaction, which must also store and queue them (AlertStore.notify_due)."""
        e = alert_escalation
        rows = conn.execute(
            select(alerts, e.c.tier, e.c.tier_at, e.c.notices)
            .join(e, e.c.alert_id == alerts.c.id)
            .where(e.c.next_at <= now)
            .order_by(e.c.next_at, e.c.alert_id)
            .limit(CLAIM_BATCH)
            .with_for_update(of=e, skip_locked=True)
        ).all()
        out: list[Told] = []
        for row in rows:
            alert = Alert.from_row(row)
            policy = self.policy(alert)
            plan = schedule(policy, row.tier, utc(row.tier_at), now)
            escalated = plan.tier != row.tier
            # Due with neither an escalation nor re-sends: the policy changed since the
            # time was set. Only the time is put right.
            send = alert.state == AlertState.OPEN and (
                escalated or policy.renotify_every_s is not None
            )
            number = row.notices + 1 if send else row.notices
            values: dict[str, object] = {"tier": plan.tier, "tier_at": plan.tier_at}
            values |= {"notices": number, "next_at": plan.next_at if send else None}
            if send:
                values["last_at"] = now
            claimed = conn.execute(
                update(e)
                .where(e.c.alert_id == alert.id, e.c.notices == row.notices, e.c.next_at <= now)
                .values(**values)
            )
            if claimed.rowcount != 1 or not send:
                continue  # another hub sent this one, or there was nothing to send
            tier = policy.tiers[plan.tier]
            if escalated:
                conn.execute(
                    update(alerts)
                    .where(alerts.c.id == alert.id)
                    .values(escalated_at=now, updated_at=now)
                )
            change = AlertChange.ESCALATED if escalated else AlertChange.RENOTIFIED
            notice = _notice(tier, number, plan.tier, now, plan.next_at)
            out.append(Told(alert.id, change, tier, notice))
        return out

    def standing(self, conn: Connection, found: Iterable[Alert]) -> dict[str, Standing]:
        by_id = {a.id: a for a in found}
        e = alert_escalation
        out: dict[str, Standing] = {}
        ids = sorted(by_id)
        for i in range(0, len(ids), 500):  # under every engine's bound-parameter limit
            for row in conn.execute(select(e).where(e.c.alert_id.in_(ids[i : i + 500]))):
                tiers = self.policy(by_id[row.alert_id]).tiers
                name = tiers[min(row.tier, len(tiers) - 1)].name
                out[row.alert_id] = Standing(
                    row.tier, name, row.notices, utc(row.last_at), opt_utc(row.next_at)
                )
        return out


def _notice(
    tier: Tier, number: int, index: int, at: datetime, next_at: datetime | None
) -> AlertNotice:
    return AlertNotice(
        number=number,
        tier=index,
        tier_name=tier.name,
        targets=list(tier.targets),
        at=at,
        next_at=next_at,
    )
