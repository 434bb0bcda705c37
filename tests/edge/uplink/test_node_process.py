"""The node runtime as a process: kill -9 between append and PUBACK loses nothing and
duplicates nothing in InfluxDB; SIGTERM stops it cleanly with systemd notifications."""

from __future__ import annotations

import signal
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.contract import NodeStatus, topics
from checkpoint.localstack import LocalStack
from checkpoint.settings.mqtt import MqttSettings
from hub.config import HubConfig, InfluxSettings
from hub.influx.v1 import InfluxV1
from hub.ingest.consumer import Ingest
from tests.edge.uplink.node_proc import NodeProcess, outbox_depth, write_config
from tests.edge.uplink.support import Subscriber
from tests.helpers import wait_for


def passages_in_influx(influx: InfluxV1, node_id: str) -> list[str]:
    rows = influx.query('SELECT "event_id" FROM "passage" WHERE "node" = $node', {"node": node_id})
    return [r["event_id"] for r in rows]


@pytest.fixture
def hub(stack: LocalStack, influx: InfluxV1, unique: str) -> Iterator[Ingest]:
    cfg = HubConfig(
        client_id=f"hub-{unique}",
        mqtt=MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port),
        influx=InfluxSettings(url=influx.url, database=influx.database),
    )
    ingest = Ingest(cfg, influx)
    ingest.start()
    yield ingest
    ingest.stop()


def test_kill_9_between_append_and_puback_delivers_exactly_once(
    tmp_path: Path, stack: LocalStack, hub: Ingest, influx: InfluxV1, unique: str
) -> None:
    mqtt = MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port)
    # A slow drain, so that most events are still waiting for their PUBACK at the kill.
    config = write_config(tmp_path, unique, mqtt, window=10, rate=100)
    node_id = f"{unique}-n1"
    status = Subscriber(stack.mqtt_host, stack.mqtt_port, topics.status_topic(node_id)).start()
    count = 600
    node = NodeProcess(config, count)
    try:
        wait_for(lambda: len(node.emitted("passage")) == count, timeout_s=60, what="all appended")
    finally:
        node.kill()
    committed = {e.seq: e.id for e in node.emitted("passage")}
    assert len(committed) == count
    state = config.parent / "state" / "outbox.sqlite"
    waiting = outbox_depth(state)
    assert waiting > count // 4, "the kill came after most PUBACKs; the test proves little"
    # The broker published the node's last will for it.
    wait_for(lambda: b'"offline"' in (status.payloads() or [b""])[-1], what="the last will")
    status.stop()

    write_config(tmp_path, unique, mqtt, rate=2000)  # drain the rest quickly
    node = NodeProcess(config, 0)  # the restarted node emits nothing new, only drains
    try:
        wait_for(lambda: outbox_depth(state) == 0, timeout_s=30, what="the outbox to empty")
        stored = wait_for(
            lambda: ids if len(ids := passages_in_influx(influx, node_id)) >= count else [],
            what="every committed passage in InfluxDB",
        )
    finally:
        assert node.stop() == 0
    per_id = Counter(stored)
    assert set(per_id) == set(committed.values())
    assert max(per_id.values()) == 1


def test_sigterm_stops_cleanly_with_systemd_notifications(
    tmp_path: Path, stack: LocalStack, unique: str
) -> None:
    mqtt = MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port)
    config = write_config(tmp_path, unique, mqtt)
    notify_path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(notify_path)
        notify.settimeout(15)
        node = NodeProcess(
            config, 0, env={"NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "400000"}
        ).proc
        try:
            assert notify.recv(64) == b"READY=1"
            assert notify.recv(64) == b"WATCHDOG=1"
            assert notify.recv(64) == b"WATCHDOG=1"  # every 0.2 s: half of WATCHDOG_USEC
            node.send_signal(signal.SIGTERM)
            states = []
            while (state := notify.recv(64)) != b"STOPPING=1":
                states.append(state)
            assert set(states) <= {b"WATCHDOG=1"}
        finally:
            if node.poll() is None:
                node.send_signal(signal.SIGTERM)
            code = node.wait(15)
    assert code == 0
    # A clean stop leaves "offline" retained for the hub.
    later = Subscriber(stack.mqtt_host, stack.mqtt_port, topics.status_topic(f"{unique}-n1"))
    later.start()
    try:
        msg = wait_for(lambda: later.messages, what="the retained status")[0]
        assert NodeStatus.model_validate_json(msg.payload).state == "offline"
    finally:
        later.stop()
