"""Mosquitto restarted while a ward's nodes publish and the hub consumes.

The test runs its own broker (the session one is shared by other tests) with persistence,
and the session InfluxDB. Nodes keep each event in their outbox until the broker's PUBACK
and send it again after a reconnect; the hub keeps its session (fixed client id, clean
start off) and acknowledges only what it stored, so what a restart interrupts arrives
again and is stored once (a redelivered point overwrites itself).

Two ways to go down:

- ``stop``: a clean stop (SIGTERM). Mosquitto saves its persistence file on the way out.
- ``kill``: SIGKILL, a crash. Mosquitto 2.0 saves only every ``autosave_interval`` (5 s in
  localstack, 60 s as provisioned) and does not save before it PUBACKs, so whatever it
  accepted since its last save and had not yet passed on is gone. With the hub connected
  and keeping up, that is nothing: a message goes on to the hub as soon as it arrives, and
  the hub stores what it received even if the broker dies before the PUBACK. The account
  below is exact in that case. When the hub is *not* keeping up (away, or InfluxDB down),
  the broker's queue is its only copy at the broker, and a crash loses up to an autosave
  interval of it; the nodes still hold those events (sent, not yet confirmed by the hub)
  and send them again after reconnecting: ``test_broker_crash_with_the_hub_away_loses_nothing``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.localstack import Mosquitto
from checkpoint.settings.mqtt import MqttSettings
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import fast_config
from tests.reliability.conftest import Ledger
from tests.reliability.ledger import account, fired_alert_kinds, stored_event_ids
from tests.reliability.ward_traffic import WardTraffic, wait_all_stored


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path / "mosquitto")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_mqtt(broker: Mosquitto) -> MqttSettings:
    return MqttSettings(host=broker.host, port=broker.port)


@pytest.fixture
def hub(
    own_mqtt: MqttSettings, influx: InfluxV1, unique: str, tmp_path: Path
) -> Iterator[HubService]:
    service = HubService(
        fast_config(own_mqtt, influx.url, influx.database, f"hub-{unique}", tmp_path / "hub")
    )
    service.start()
    yield service
    service.stop()


def wait_for_save(broker: Mosquitto, after: float) -> None:
    """Until the broker's persistence file was written after ``after`` (epoch seconds).

    A crash restores the last save: if the hub's session (its subscription) is not in it,
    the restarted broker has nobody to queue node events for until the hub subscribes
    again. A hub that has run for a while is always in it; a test's fresh hub must wait.
    """
    wait_for(
        lambda: (
            broker.persistence_file.exists() and broker.persistence_file.stat().st_mtime > after
        ),
        timeout_s=30,
        interval_s=0.2,
        what="the broker's autosave",
    )


@pytest.mark.parametrize(
    ("how", "seconds", "restarts"),
    [
        pytest.param("stop", 3.0, 1, id="stop-short"),
        pytest.param("kill", 3.0, 1, id="kill-short"),
        pytest.param(
            "stop", 120.0, 6, id="stop-long", marks=[pytest.mark.slow, pytest.mark.timeout(600)]
        ),
        pytest.param(
            "kill", 120.0, 6, id="kill-long", marks=[pytest.mark.slow, pytest.mark.timeout(600)]
        ),
    ],
)
def test_broker_restarted_while_nodes_publish_stores_each_event_once(
    broker: Mosquitto,
    own_mqtt: MqttSettings,
    hub: HubService,
    influx: InfluxV1,
    unique: str,
    ledger: Ledger,
    how: str,
    seconds: float,
    restarts: int,
) -> None:
    began = time.time()  # the hub subscribed before this
    traffic = WardTraffic(unique, 4, own_mqtt)
    try:
        traffic.start()
        traffic.fever()
        # Restarts spread over the run, traffic before the first and after the last.
        gap = seconds / (restarts + 1)
        for i in range(restarts):
            time.sleep(gap)
            if how == "kill" and i == 0:
                wait_for_save(broker, after=began)
            broker.restart(kill=how == "kill")
        time.sleep(gap)
    finally:
        traffic.close()
    wait_all_stored(influx, traffic.ids, traffic.node_ids)
    wait_for(
        lambda: "fever" in fired_alert_kinds(influx, ward=unique),
        timeout_s=60,
        what="the fever alert",
    )
    assert hub.ingest is not None
    ledger.record(
        account(
            f"broker {'SIGKILL' if how == 'kill' else 'restart'} x{restarts} ({seconds:.0f}s)",
            traffic.ids,
            stored_event_ids(influx, nodes=traffic.node_ids),
            alerts_expected=["fever"],
            alerts_fired=fired_alert_kinds(influx, ward=unique),
            undelivered=traffic.undelivered,
            hub_redeliveries=hub.ingest.stats["duplicates"],
        )
    )


def wait_confirmed(traffic: WardTraffic, timeout_s: float = 120.0) -> bool:
    """Until the hub has confirmed every event and the nodes deleted them."""
    deadline = time.monotonic() + timeout_s
    while any(o.held for o in traffic.ward.outboxes):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize(
    ("seconds", "crashes"),
    [
        pytest.param(1.0, 1, id="short"),
        pytest.param(120.0, 6, id="long", marks=[pytest.mark.slow, pytest.mark.timeout(600)]),
    ],
)
def test_broker_crash_with_the_hub_away_loses_nothing(
    tmp_path: Path, influx: InfluxV1, unique: str, ledger: Ledger, seconds: float, crashes: int
) -> None:
    """The hub is away (restarting, or behind because InfluxDB is down), nodes deliver,
    the broker PUBACKs, and is killed before its next save: its queue held the only copy
    at the broker. The autosave interval is stretched so that every crash surely lands
    before a save. The nodes kept each event (sent, unconfirmed) and send it again on
    reconnecting; once the hub is back it stores each once and confirms it, and only then
    do the nodes let it go."""
    broker = Mosquitto(tmp_path / "mosquitto", extra_config="autosave_interval 3600")
    broker.start()
    mqtt = MqttSettings(host=broker.host, port=broker.port)
    config = fast_config(mqtt, influx.url, influx.database, f"hub-{unique}", tmp_path / "hub")
    hub = HubService(config)
    traffic = WardTraffic(unique, 2, mqtt)
    try:
        hub.start()
        hub.stop()  # away: its session, with the subscription, stays at the broker
        broker.restart()  # a clean stop saves that session
        traffic.start()
        traffic.fever()
        gap = seconds / crashes
        for _ in range(crashes):
            time.sleep(gap)
            traffic.pause()
            # Everything made so far is at the broker (PUBACKed), none of it confirmed.
            wait_for(lambda: traffic.ward.drained(0.1), timeout_s=30, what="all sent")
            made = len(traffic.ids)  # health reports go on: read before the outboxes
            assert sum(o.held for o in traffic.ward.outboxes) >= made, "kept until confirmed"
            broker.restart(kill=True)
            traffic.start()
        traffic.pause()
        hub = HubService(config)
        hub.start()
        wait_all_stored(influx, traffic.ids, traffic.node_ids)
        confirmed = wait_confirmed(traffic)
        wait_for(
            lambda: "fever" in fired_alert_kinds(influx, ward=unique),
            timeout_s=60,
            what="the fever alert",
        )
    finally:
        traffic.close()
        hub.stop()
        broker.stop()
    assert confirmed, "the hub's confirmations did not empty the outboxes"
    ledger.record(
        account(
            f"broker SIGKILL x{crashes}, hub away ({seconds:.0f}s)",
            traffic.ids,
            stored_event_ids(influx, nodes=traffic.node_ids),
            alerts_expected=["fever"],
            alerts_fired=fired_alert_kinds(influx, ward=unique),
            undelivered=traffic.undelivered,
            resent_after_crash=sum(link.stats["resent"] for link in traffic.ward.links),
        )
    )
