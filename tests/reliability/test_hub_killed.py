"""``checkpoint hub run`` killed with -9 mid-batch while a ward publishes, then restarted.

The hub batches by time (1 s) so that a kill lands while it holds received, unacknowledged
messages. The broker keeps them in the hub's persistent session and redelivers them to the
restarted process; a point written before the kill and written again overwrites itself, so
each event is stored once. A fever at a node while the hub is dead must raise its alert
once the hub is back: the derivation runs on the redelivered traffic.
"""

from __future__ import annotations

import signal
import time

import pytest

from checkpoint.settings.mqtt import MqttSettings
from hub.influx.v1 import InfluxV1
from tests.helpers import wait_for
from tests.hubproc import HubProcess
from tests.reliability.conftest import Ledger
from tests.reliability.ledger import account, fired_alert_kinds, stored_event_ids
from tests.reliability.ward_traffic import WardTraffic, wait_all_stored


@pytest.fixture
def hub(hub_process: HubProcess) -> HubProcess:
    return hub_process


def kill_mid_batch(hub: HubProcess) -> int:
    """SIGKILL once the hub holds received, unacknowledged messages; how many it held."""
    pending = wait_for(
        lambda: (
            hub.value("checkpoint_hub_events_stored_total") > 0
            and int(hub.value("checkpoint_hub_pending_messages"))
        ),
        timeout_s=60,
        interval_s=0.02,
        what="a batch received and not yet stored",
    )
    assert hub.signal(signal.SIGKILL) == -signal.SIGKILL
    return int(pending)


@pytest.mark.parametrize(
    ("seconds", "kills"),
    [
        pytest.param(2.0, 1, id="once"),
        pytest.param(120.0, 6, id="six-times", marks=[pytest.mark.slow, pytest.mark.timeout(600)]),
    ],
)
def test_hub_killed_mid_batch_and_restarted_stores_each_event_once(
    hub: HubProcess,
    influx: InfluxV1,
    mqtt_settings: MqttSettings,
    unique: str,
    ledger: Ledger,
    seconds: float,
    kills: int,
) -> None:
    hub.start()
    traffic = WardTraffic(unique, 4, mqtt_settings)
    held: list[int] = []  # unacknowledged messages the hub held at each kill
    try:
        traffic.start()
        gap = seconds / (kills + 1)
        for i in range(kills):
            time.sleep(gap)
            held.append(kill_mid_batch(hub))
            if i == 0:
                traffic.fever()  # while no hub runs: its alert must come from the next one
            time.sleep(1.0)  # nodes go on delivering into the broker meanwhile
            hub.start()  # same client id: the broker redelivers what was not acked
        time.sleep(gap)
    finally:
        traffic.close()
    wait_all_stored(influx, traffic.ids, traffic.node_ids)
    wait_for(
        lambda: "fever" in fired_alert_kinds(influx, ward=unique),
        timeout_s=60,
        what="the fever alert",
    )
    assert hub.signal(signal.SIGTERM) == 0
    ledger.record(
        account(
            f"hub killed -9 x{kills} ({seconds:.0f}s)",
            traffic.ids,
            stored_event_ids(influx, nodes=traffic.node_ids),
            alerts_expected=["fever"],
            alerts_fired=fired_alert_kinds(influx, ward=unique),
            undelivered=traffic.undelivered,
            unacked_at_kills=held,
        )
    )
