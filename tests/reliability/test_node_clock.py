"""A node's wall clock jumps back and forward (NTP stepping the clock of a Raspberry Pi,
which has no RTC and boots at whatever fake-hwclock saved).

How time is used: the outbox stamps each event's ``ts`` from the node's wall clock (its
``clock`` seam; SimWard passes one per node) next to a ``seq`` that only counts up; the
node's own timing (measurements, barrier) runs on the monotonic clock and does not jump.
The hub puts each event at ``ts`` truncated to the millisecond plus ``seq mod 10^6`` ns
(docs/influx-schema.md), refuses events more than ``ingest.max_future_s`` ahead of its
clock or ``max_past_s`` behind as dead letters (``bad_timestamp``, the payload kept), and
raises ``clock_skew`` (hub/rules/health.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from checkpoint.contract.models import EventBase
from checkpoint.settings.mqtt import MqttSettings
from edge.sim.ward import SimWard
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.helpers import wait_for
from tests.reliability.conftest import Ledger
from tests.reliability.ledger import account, fired_alert_kinds, stored_event_ids
from tests.reliability.nodeside import LONG, running_hub


class SteppedClock:
    """A node's wall clock: the real time plus an offset that NTP steps. It ticks in whole
    seconds, so that tens of one node's events share each timestamp: the collisions a jump
    back makes (the same wall time lived twice), on purpose and many, not by luck."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            now = datetime.now(UTC) + self.offset
        return now.replace(microsecond=0)

    def step(self, seconds: float) -> None:
        with self._lock:
            self.offset += timedelta(seconds=seconds)


def traffic(ward: SimWard, seconds: float) -> None:
    """People at every checkpoint of the ward for ``seconds``."""
    stop = threading.Event()
    runner = threading.Thread(target=ward.run, args=(stop, 15.0), daemon=True)
    runner.start()
    try:
        time.sleep(seconds)
    finally:  # also when the test fails: the ward must not be closed under a running step
        stop.set()
        runner.join(10)


def shared_stamps(events: list[EventBase]) -> int:
    """Events of one type that share their timestamp with another of the same node."""
    groups = Counter((e.node_id, e.type, e.ts) for e in events)
    return sum(n for n in groups.values() if n > 1)


@pytest.mark.parametrize(
    ("before_s", "back_s", "after_s"),
    [
        pytest.param(3.0, 300.0, 3.0, id="short"),
        # The jump back is shorter than what follows it: the same wall time is lived twice.
        pytest.param(180.0, 120.0, 180.0, id="long", marks=LONG),
    ],
)
def test_node_clock_jumps_back(
    tmp_path: Path,
    influx: InfluxV1,
    mqtt_settings: MqttSettings,
    unique: str,
    ledger: Ledger,
    before_s: float,
    back_s: float,
    after_s: float,
) -> None:
    clock = SteppedClock()
    emitted: list[EventBase] = []
    with running_hub(mqtt_settings, influx, f"hub-{unique}", tmp_path / "hub") as hub:
        ward = SimWard(
            unique,
            2,
            mqtt_settings,
            on_event=emitted.append,
            health_interval_s=0.5,
            clocks=[clock],
        )
        try:
            ward.connect()
            traffic(ward, before_s)
            jumped = len(emitted)
            clock.step(-back_s)
            traffic(ward, after_s)
        finally:
            ward.close(drain_s=30)
        nodes = [n.config.node_id for n in ward.nodes]
        ids = [e.id for e in emitted]
        wait_for(
            lambda: set(stored_event_ids(influx, nodes=nodes)) >= set(ids),
            timeout_s=60,
            what="every event stored",
        )
        wait_for(
            lambda: "clock_skew" in fired_alert_kinds(influx, ward=unique),
            timeout_s=30,
            what="the clock_skew alert",
        )
        assert dead_letter_ids(hub) == [], "nothing was refused"
    mine = [e for e in emitted if e.node_id == nodes[0]]
    across = {(e.type, e.ts) for e in emitted[:jumped] if e.node_id == nodes[0]} & {
        (e.type, e.ts) for e in emitted[jumped:] if e.node_id == nodes[0]
    }
    ledger.record(
        account(
            f"node clock jumps back {back_s:.0f}s",
            ids,
            stored_event_ids(influx, nodes=nodes),
            alerts_expected=["clock_skew"],
            alerts_fired=fired_alert_kinds(influx, ward=unique),
            events_sharing_a_stamp=shared_stamps(mine),
            stamps_lived_twice=len(across),
        )
    )
    # Without seq in the point's time, these would have overwritten each other.
    assert shared_stamps(mine) > 0


def dead_letter_payloads(hub: HubService, reason: str = "bad_timestamp") -> dict[str, Any]:
    assert hub.dead_letters is not None
    payloads = [json.loads(d.payload) for d in hub.dead_letters.recent(10**6, reason)]
    return {p["id"]: p for p in payloads}


def dead_letter_ids(hub: HubService, reason: str = "bad_timestamp") -> list[str]:
    """One id per dead letter: an event kept twice shows twice."""
    assert hub.dead_letters is not None
    return [json.loads(d.payload)["id"] for d in hub.dead_letters.recent(10**6, reason)]


@pytest.mark.parametrize(
    ("ahead_s", "for_s"),
    [
        pytest.param(600.0, 3.0, id="short"),
        pytest.param(3600.0, 120.0, id="long", marks=LONG),
    ],
)
def test_node_clock_jumps_forward_beyond_the_hubs_limit(
    tmp_path: Path,
    influx: InfluxV1,
    mqtt_settings: MqttSettings,
    unique: str,
    ledger: Ledger,
    ahead_s: float,
    for_s: float,
) -> None:
    """NTP steps the clock far ahead (a bad server), and back again later. The hub cannot
    draw those events at a time that has not come: it keeps them as dead letters with
    their payload (``bad_timestamp``), and it must tell the command centre the node's
    clock is off, rather than only seeing it go quiet. Before and after, all is stored."""
    clock = SteppedClock()
    emitted: list[EventBase] = []
    with running_hub(mqtt_settings, influx, f"hub-{unique}", tmp_path / "hub") as hub:
        ward = SimWard(
            unique,
            2,
            mqtt_settings,
            on_event=emitted.append,
            health_interval_s=0.5,
            clocks=[clock],
        )
        try:
            ward.connect()
            traffic(ward, 2.0)
            # Stamped ahead: at least half the step past the moment of the step (the test
            # ends long before the real clock gets there). By the stamp, not by the order
            # of the ward's list: the health sampler emits from a thread of its own.
            ahead_from = datetime.now(UTC) + timedelta(seconds=ahead_s / 2)
            clock.step(ahead_s)
            traffic(ward, for_s)
            clock.step(-ahead_s)
            traffic(ward, 2.0)
        finally:
            ward.close(drain_s=30)
        nodes = [n.config.node_id for n in ward.nodes]
        ahead = [e.id for e in emitted if e.node_id == nodes[0] and e.ts >= ahead_from]
        ids = [e.id for e in emitted]
        wait_for(
            lambda: (
                set(stored_event_ids(influx, nodes=nodes)) | set(dead_letter_ids(hub)) >= set(ids)
            ),
            timeout_s=60,
            what="every event stored or kept as a dead letter",
        )
        wait_for(
            lambda: "clock_skew" in fired_alert_kinds(influx, ward=unique),
            timeout_s=30,
            what="the clock_skew alert",
        )
        dead = dead_letter_ids(hub)
        payloads = dead_letter_payloads(hub)
    stored = stored_event_ids(influx, nodes=nodes)
    # Any other dead letter, with what it was, so that a failure says what came.
    others = [
        {k: payloads[i][k] for k in ("type", "node_id", "seq", "ts")}
        for i in sorted(set(dead) - set(ahead))
    ]
    assert sorted(dead) == sorted(ahead), (
        f"exactly the events stamped ahead are dead letters: {others}"
    )
    ledger.record(
        account(
            f"node clock jumps {ahead_s:.0f}s ahead (dead letters kept)",
            ids,
            stored + dead,
            alerts_expected=["clock_skew"],
            alerts_fired=fired_alert_kinds(influx, ward=unique),
            in_influxdb=len(stored),
            dead_lettered_bad_timestamp=len(dead),
        )
    )
