"""Three hours of a small ward, built with the contract models and written to a real
InfluxDB through the hub's schema: the data the dashboard tests query.

Four checkpoints, five nodes. ``cp03`` was offline for half an hour in the middle and
``cp04`` has been offline for the last half hour, so "offline" has something to show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from checkpoint.contract import BarrierAlarm, CommandResult, ConfigAck, Health, Passage, Reading
from checkpoint.contract.models import (
    BarrierAlarmKind,
    BarrierMotion,
    Decision,
    PassCheck,
    Reason,
    TemperatureCheck,
)
from edge.events import MemoryEmitter
from hub.influx.lineproto import Point
from hub.influx.schema import event_point
from hub.influx.v1 import InfluxV1

HOURS = 3


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class WardData:
    ward: str
    start: datetime
    end: datetime
    checkpoints: list[str]
    lines: list[str] = field(default_factory=list)


def _offline(node_id: str, minute: int, hours: int) -> bool:
    if node_id.endswith("cp03-n1"):
        return 60 <= minute < 90
    if node_id.endswith("cp04-n1"):
        return minute >= hours * 60 - 30
    return False


def _passage(em: MemoryEmitter, rng: random.Random) -> None:
    body = rng.gauss(36.3, 0.35) if rng.random() > 0.08 else rng.uniform(37.8, 39.0)
    ambient = 29.0
    em.emit(Reading, object_c=body, ambient_c=ambient, samples=5, spread_c=0.1, emissivity=0.98)
    fever = body >= 37.5
    roll = rng.random()
    reason = (
        Reason.FEVER
        if fever
        else Reason.NO_PASS
        if roll < 0.1
        else Reason.PASS_EXPIRED
        if roll < 0.15
        else Reason.OK
    )
    admitted = reason == Reason.OK
    em.emit(
        Passage,
        direction=rng.choice(["in", "out"]),
        decision=Decision.ADMIT if admitted else Decision.REFUSE,
        reason=reason,
        zone_level="green" if em.checkpoint_id[-1] != "4" else "orange",
        temperature=TemperatureCheck(
            first_c=body,
            second_c=body if body >= 37.5 else None,
            ambient_c=ambient,
            threshold_c=37.5,
            fever=fever,
        ),
        pass_check=None
        if reason == Reason.NO_PASS
        else PassCheck(
            pass_id=f"p{rng.randrange(10**6):06d}",
            category="resident",
            valid=reason != Reason.PASS_EXPIRED,
            reason=Reason.OK if reason != Reason.PASS_EXPIRED else reason,
            trust_version=3,
            revocation_version=7,
            trust_age_s=120.0,
        ),
        barrier=BarrierMotion(opened=admitted, open_s=1.2 if admitted else None, closed=True),
        duration_ms=rng.randrange(2000, 9000),
    )


def _health(em: MemoryEmitter, rng: random.Random, minute: int, hours: int) -> None:
    late = em.node_id.endswith("cp02-n2") and minute > hours * 60 - 20
    em.emit(
        Health,
        uptime_s=minute * 60.0,
        cpu_temp_c=48 + rng.random() * 6,
        disk_free_bytes=(300_000_000 if late else 12_000_000_000) - minute * 1000,
        outbox_depth=rng.randrange(0, 3) if minute % 50 else 40,
        # cp03's outbox overflowed during its outage: the oldest readings gave way.
        outbox_dropped=12 if em.node_id.endswith("cp03-n1") and minute >= 90 else 0,
        camera_fps=9.5,
        sensor_errors={"thermometer": minute // 60},
        config_version="2026-11-22.1",
        software_version="0.1.0",
        flags=["disk_low"] if late else [],
    )


def _alert_line(ward: str, checkpoint: str, ts: datetime, state: str, n: int) -> str:
    tags = {
        "ward": ward,
        "checkpoint": checkpoint,
        "node": f"{checkpoint}-n1",
        "kind": "fever",
        "severity": "warning",
        "state": state,
    }
    fields: dict[str, str | int | float | bool] = {
        "alert_id": f"a{n}",
        "summary": f"fever confirmed at {checkpoint}",
        "count": 1,
    }
    return Point("alert", tags, fields, int(ts.timestamp() * 1e9)).to_line()


def build(
    ward: str, end: datetime, seed: int = 7, *, checkpoints: int = 4, hours: int = HOURS
) -> WardData:
    """``checkpoints`` >= 4; bench/dashboard_queries.py builds a whole ward's day."""
    rng = random.Random(seed)
    start = end - timedelta(hours=hours)
    cps = [f"{ward}-cp{i:02d}" for i in range(1, checkpoints + 1)]
    data = WardData(ward, start, end, cps)
    clock = Clock(start)
    emitters = [
        MemoryEmitter(f"{cp}-n{n}", cp, ward, clock=clock)
        for cp in cps
        for n in ((1, 2) if cp.endswith("cp02") else (1,))
    ]
    for minute in range(hours * 60):
        for em in emitters:
            if _offline(em.node_id, minute, hours):
                continue
            clock.now = start + timedelta(minutes=minute, seconds=rng.uniform(0, 50))
            _health(em, rng, minute, hours)
            # A quiet hour at cp02 (up but nobody passing): "no traffic", not "offline".
            quiet = em.checkpoint_id.endswith("cp02") and 100 <= minute < 160
            if not quiet and rng.random() < 0.35:
                _passage(em, rng)
            if em.node_id.endswith("cp01-n1") and minute % 40 == 5:
                em.emit(
                    BarrierAlarm,
                    kind=BarrierAlarmKind.HELD_OPEN,
                    duration_s=45.0,
                    detail="open 45 s",
                )
                em.emit(BarrierAlarm, kind=BarrierAlarmKind.CLEARED, duration_s=None, detail="")
            if minute == 3:
                em.emit(ConfigAck, version="2026-11-22.1", applied=True, error=None)
            if em.node_id.endswith("cp01-n1") and minute % 60 == 30:
                em.emit(
                    CommandResult,
                    command_id=f"c{minute}",
                    command="barrier_test",
                    ok=True,
                    detail="opened in 1.1 s",
                )
    for em in emitters:
        data.lines.extend(event_point(e).to_line() for e in em.events)
    for n, minute in enumerate((20, 75, 150)):
        ts = start + timedelta(minutes=minute)
        data.lines.append(_alert_line(ward, cps[0], ts, "open", n))
        data.lines.append(_alert_line(ward, cps[0], ts + timedelta(minutes=5), "resolved", n))
    # Still open: a fever at cp02 a few minutes ago.
    data.lines.append(_alert_line(ward, cps[1], end - timedelta(minutes=4), "open", 3))
    return data


def fill(influx: InfluxV1, ward: str, **kwargs: int) -> WardData:
    data = build(ward, datetime.now(UTC), **kwargs)
    for i in range(0, len(data.lines), 5000):
        influx.write_lines(data.lines[i : i + 5000])
    return data
