"""A node's backlog after an outage: a barrier alarm raised at its end overtakes the hours
of readings queued before it, at the node (the outbox drains urgent events first) and at
the hub (passages and alarms have a lane of their own), up to the command centre.

A real outbox and link (the node's default window; the rate limit raised fourfold so that
the whole backlog drains in seconds), a real hub with its production batch interval on the
session's broker and InfluxDB, and a subscriber on the ward's alert topic.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from checkpoint.contract import BarrierAlarm, Event, Reading, topics
from checkpoint.contract.node.uplink import LinkSettings, OutboxSettings
from checkpoint.settings.mqtt import MqttSettings
from edge.uplink.link import Link
from edge.uplink.outbox import Outbox
from hub.config import BatchSettings
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.edge.uplink.support import READING, Subscriber
from tests.helpers import wait_for
from tests.hub.conftest import fast_config
from tests.reliability.conftest import Ledger
from tests.reliability.ledger import account, stored_event_ids
from tests.reliability.ward_traffic import wait_all_stored

BACKLOG = 10_000
WRITERS = 16  # emitting threads, as the node's own: they share fsyncs


def outage_clock(hours: float) -> Callable[[], datetime]:
    """One reading a second through an outage of ``hours`` that ends now: the backlog is
    dated as it was made (the hub's per-node budget runs on the events' own time)."""
    start = datetime.now(UTC) - timedelta(hours=hours)
    tick = itertools.count()
    return lambda: start + timedelta(seconds=next(tick))


def test_a_barrier_alarm_overtakes_ten_thousand_queued_readings(
    mqtt_settings: MqttSettings, influx: InfluxV1, unique: str, tmp_path: Path, ledger: Ledger
) -> None:
    node = f"{unique}-cp01-n1"
    outbox = Outbox(
        tmp_path / "outbox.sqlite",
        node_id=node,
        checkpoint_id=f"{unique}-cp01",
        ward_id=unique,
        max_bytes=OutboxSettings().max_bytes,
        clock=outage_clock(BACKLOG / 3600 + 0.01),
    )
    # The hub's production batch interval: the bulk lane gathers readings for 0.2 s.
    config = fast_config(
        mqtt_settings,
        influx.url,
        influx.database,
        f"hub-{unique}",
        tmp_path / "hub",
        batch=BatchSettings(retry_initial_s=0.05, retry_max_s=0.5),
    )
    hub = HubService(config)
    stored: list[tuple[float, Event]] = []
    lock = threading.Lock()

    def on_stored(events: list[Event]) -> None:
        now = time.monotonic()
        with lock:
            stored.extend((now, e) for e in events if e.node_id == node)

    alerts = Subscriber(mqtt_settings.host, mqtt_settings.port, topics.alert_topic(unique))
    link = Link(
        node,
        mqtt_settings,
        outbox,
        drain=OutboxSettings(rate_per_s=2000, burst=500),
        link=LinkSettings(backoff_min_s=0.1, backoff_max_s=0.4),
    )
    try:
        hub.start()
        assert hub.ingest is not None
        hub.ingest.on_stored = on_stored
        alerts.start()

        # The uplink is down (the link not started): readings pile up, then the alarm.
        emitted: list[str] = []  # list.append is atomic

        def readings(n: int) -> None:
            for _ in range(n):
                emitted.append(outbox.emit(Reading, **READING).id)

        writers = [
            threading.Thread(target=readings, args=(BACKLOG // WRITERS,)) for _ in range(WRITERS)
        ]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        alarm = outbox.emit(BarrierAlarm, kind="forced_open", detail="pushed open by hand")
        emitted.append(alarm.id)
        assert outbox.depth == BACKLOG + 1

        link.start()  # the uplink is back
        wait_for(alerts.payloads, timeout_s=60, what="the alert on the ward topic")
        alert_at = alerts.messages[0].at
        wait_for(
            lambda: sum(isinstance(e, Reading) for _, e in stored) >= 100,
            timeout_s=60,
            what="100 readings stored",
        )
        with lock:
            order = list(stored)
        readings_at = [at for at, e in order if isinstance(e, Reading)]
        [alarm_at] = [at for at, e in order if e.id == alarm.id]
        assert alarm_at <= readings_at[99], "the alarm was stored after the 100th reading"
        assert alert_at <= readings_at[99], "the alert came after the 100th reading was stored"
        assert b"barrier_forced_open" in alerts.payloads()[0]

        wait_all_stored(influx, emitted, [node])
        wait_for(lambda: outbox.held == 0, timeout_s=60, what="every event confirmed")
    finally:
        link.stop()
        alerts.stop()
        hub.stop()
        outbox.close()
    ledger.record(
        account(
            f"barrier alarm behind {BACKLOG:,} queued readings",
            emitted,
            stored_event_ids(influx, nodes=[node]),
            readings_stored_before_alarm=sum(at < alarm_at for at in readings_at),
            readings_stored_before_alert=sum(at < alert_at for at in readings_at),
        )
    )
