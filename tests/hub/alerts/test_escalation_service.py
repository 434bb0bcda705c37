"""The escalation chain in a running hub (HubService), in real time with short intervals:
a fever passage through the real broker opens a critical alert nobody acknowledges; it is
re-sent every second and escalated after 2.5 s, on the ward's MQTT topic and to the next
tier's chat bridge (a real HTTP server), until a commander acknowledges it through the API.
A hub stopped and started again carries on on the same schedule, without a second copy."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from checkpoint.contract.alerts import AlertChange, AlertMessage, AlertNotice
from checkpoint.settings.mqtt import MqttSettings
from edge.events import MemoryEmitter
from hub.alerts.chain import EscalationConfig, SeverityPolicy, Tier, WardEscalation
from hub.alerts.config import AlertsConfig, WebhookSettings
from hub.api.keys import KeyStore
from hub.api.roles import Role
from hub.config import HubConfig
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.alerts.scene import Hook, WardWatcher, emit_fever
from tests.hub.conftest import fast_config
from tests.node_publisher import Publisher

EVERY_S = 1.0
ESCALATE_S = 2.5
# How late a notice may be on a machine shared with other work: the hub looks every 0.1 s.
LATE_S = 0.8


@pytest.fixture
def bridge() -> Iterator[Hook]:
    """The ward commander's chat bridge."""
    server = Hook()
    yield server
    server.close()


@pytest.fixture
def config(
    mqtt_settings: MqttSettings, influx: InfluxV1, unique: str, tmp_path: Path, bridge: Hook
) -> HubConfig:
    chain = SeverityPolicy(
        renotify_every_s=EVERY_S,
        escalate_after_s=ESCALATE_S,
        tiers=[
            Tier(name="Trực ban", targets=["mqtt", "console"]),
            Tier(name="Chỉ huy phường", targets=["mqtt", "console", "webhook:chihuy"]),
        ],
    )
    alerts = AlertsConfig(
        poll_s=0.1,
        influx=False,
        webhooks=[WebhookSettings(url=bridge.url, name="chihuy", changes=False)],
        escalation=EscalationConfig(wards={unique: WardEscalation(critical=chain)}),
    )
    return fast_config(
        mqtt_settings, influx.url, influx.database, f"hub-{unique}", tmp_path, alerts=alerts
    )


@pytest.fixture
def watcher(mqtt_settings: MqttSettings, unique: str) -> Iterator[WardWatcher]:
    ward = WardWatcher(mqtt_settings, unique)
    yield ward
    ward.close()


def fever_at_the_checkpoint(mqtt_settings: MqttSettings, ward: str) -> None:
    node = Publisher(f"{ward}-cp03-a", mqtt_settings)
    node.connect()
    emitter = MemoryEmitter(f"{ward}-cp03-a", f"{ward}-cp03", ward, sink=node.publish)
    try:
        emit_fever(emitter)
    finally:
        node.close()


def fevers(got: list[AlertMessage]) -> list[AlertMessage]:
    return [m for m in got if m.kind == "fever"]


def notices(got: list[AlertMessage]) -> list[AlertNotice]:
    return [m.notice for m in fevers(got) if m.notice is not None]


def next_due(notice: AlertNotice) -> datetime:
    assert notice.next_at is not None, notice
    return notice.next_at


def on_the_grid(new: AlertMessage, due: datetime) -> bool:
    """A notice time the schedule allows: tier 0 re-sends at 1 s and 2 s after opening,
    the escalation at 2.5 s, then tier 1 re-sends every second from there."""
    since = (due - new.opened_at).total_seconds()
    grid = [EVERY_S, 2 * EVERY_S] + [ESCALATE_S + k * EVERY_S for k in range(30)]
    return any(abs(since - slot) < 0.001 for slot in grid)


def assert_on_schedule(new: AlertMessage, told: list[AlertNotice]) -> None:
    """Numbered on without a gap or a repeat, each notice sent at the time the one before
    said (never early, at most LATE_S late), those times on the grid, and the tier the one
    of the time it was sent."""
    for before, notice in itertools.pairwise(told):
        assert notice.number == before.number + 1, told
        due = next_due(before)
        assert on_the_grid(new, due), before
        assert due <= notice.at <= due + timedelta(seconds=LATE_S), notice
        called = notice.at >= new.opened_at + timedelta(seconds=ESCALATE_S)
        assert notice.tier == (1 if called else 0), notice


def commander(service: HubService, ward: str) -> httpx.Client:
    assert service.engine is not None
    assert service.api is not None
    _, token = KeyStore(service.engine).issue(Role.COMMANDER, "chihuy-an", wards=[ward])
    return httpx.Client(
        base_url=f"http://127.0.0.1:{service.api.port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_unacknowledged_fever_is_resent_and_escalated_until_acknowledged(
    config: HubConfig, mqtt_settings: MqttSettings, unique: str, watcher: WardWatcher, bridge: Hook
) -> None:
    service = HubService(config)
    service.start()
    try:
        fever_at_the_checkpoint(mqtt_settings, unique)
        # Tier 0 hears it, twice more; at 2.5 s tier 1 is called, and hears it again at 3.5 s.
        wait_for(
            lambda: [n for n in notices(watcher.got) if n.tier == 1 and n.number >= 5],
            timeout_s=15,
            what="the escalation and a re-send to the second tier on the ward topic",
        )
        new = fevers(watcher.got)[0]
        api = commander(service, unique)
        acked = api.post(f"/alerts/{new.alert_id}/ack", json={"note": "đội 3 đang tới"})
        assert acked.status_code == 200, acked.text
        wait_for(
            lambda: [m for m in fevers(watcher.got) if m.change == AlertChange.ACKNOWLEDGED],
            what="the acknowledgement on the ward topic",
        )
        heard, posted = len(notices(watcher.got)), len(bridge.received)
        time.sleep(3 * EVERY_S)  # three re-send intervals: none may come
        assert len(notices(watcher.got)) == heard
        assert len(bridge.received) == posted
        alert = api.get(f"/alerts/{new.alert_id}").json()
        history = api.get(f"/alerts/{new.alert_id}/history").json()
    finally:
        service.stop()
    told = notices(watcher.got)
    assert_on_schedule(new, told)
    assert [(n.tier, n.number) for n in told[:2]] == [(0, 1), (0, 2)]
    escalated = [m for m in fevers(watcher.got) if m.change == AlertChange.ESCALATED]
    assert [(m.notice and m.notice.tier_name) for m in escalated] == ["Chỉ huy phường"]
    # The second tier's chat bridge heard the second tier's notices, and nothing else.
    assert [m.notice for m in bridge.received] == [n for n in told if n.tier == 1]
    assert bridge.received[0].change == AlertChange.ESCALATED
    # The alert's record: where it stopped, and a history listing every notice.
    assert alert["state"] == "acknowledged"
    assert alert["escalation"]["tier_name"] == "Chỉ huy phường"
    assert alert["escalation"]["notices"] == len(told)
    assert alert["escalation"]["next_at"] is None
    in_history = [c["message"]["notice"] for c in history if c["message"]["notice"]]
    assert [n["number"] for n in in_history] == [n.number for n in told]
    assert history[-1]["change"] == "acknowledged"


def test_a_restarted_hub_carries_on_on_schedule_without_a_second_copy(
    config: HubConfig, mqtt_settings: MqttSettings, unique: str, watcher: WardWatcher, bridge: Hook
) -> None:
    """Stopped after the first re-send and started again once the escalation was due: the
    escalation goes out at once (one notice for all that fell in the gap), and the second
    tier then hears it on the grid that began at 2.5 s, as if the hub had never stopped."""
    service = HubService(config)
    service.start()
    try:
        fever_at_the_checkpoint(mqtt_settings, unique)
        wait_for(lambda: len(notices(watcher.got)) >= 2, what="the first re-send")
    finally:
        service.stop()
    stopped = datetime.now(UTC)
    new = fevers(watcher.got)[0]
    # Down across a re-send and the escalation (2.5 s after the opening).
    back = new.opened_at + timedelta(seconds=ESCALATE_S + 0.3)
    time.sleep(max(0.0, (back - datetime.now(UTC)).total_seconds()))
    again = HubService(config)
    restarted = datetime.now(UTC)
    again.start()
    try:
        wait_for(
            lambda: len([n for n in notices(watcher.got) if n.at >= restarted]) >= 3,
            timeout_s=15,
            what="the escalation and the second tier's re-sends after the restart",
        )
        api = commander(again, unique)
        acked = api.post(f"/alerts/{new.alert_id}/ack", json={})
        assert acked.status_code == 200, acked.text
    finally:
        again.stop()
    told = notices(watcher.got)
    before = [n for n in told if n.at < restarted]
    after = told[len(before) :]
    assert before[-1].tier == 0  # the first hub stopped before the escalation was due
    assert all(n.at <= stopped for n in before)  # nothing went out while the hub was down
    # At once on the restart: one notice, the escalation, for all that fell in the gap ...
    caught_up = fevers(watcher.got)[len(before)]
    assert caught_up.change == AlertChange.ESCALATED
    assert (after[0].tier, after[0].number) == (1, before[-1].number + 1)
    assert on_the_grid(new, next_due(after[0]))
    assert next_due(after[0]) > after[0].at
    # ... then the second tier's re-sends on the grid that began at 2.5 s.
    assert_on_schedule(new, after)
    # Once each: on the ward topic (the opening too), and at the second tier's bridge.
    changes = [(m.change, m.notice and m.notice.number) for m in fevers(watcher.got)]
    assert len(set(changes)) == len(changes)
    assert [m.notice.number for m in bridge.received if m.notice] == [n.number for n in after]
