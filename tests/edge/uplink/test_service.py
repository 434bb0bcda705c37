"""The node runtime in-process against a real broker: pushed configs applied or refused
(and acked either way), commands answered, refused credentials in the health flags."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from paho.mqtt import publish
from paho.mqtt.enums import MQTTProtocolVersion

from checkpoint.contract import Command, ConfigAck, ConfigPush, decode_event, encode, topics
from checkpoint.contract.models import CommandResult, Health
from checkpoint.contract.node.config import HealthConfig, NodeConfig
from checkpoint.contract.node.uplink import LinkSettings, UplinkSettings
from checkpoint.localstack import LocalStack, Mosquitto
from checkpoint.settings.loading import load_model
from checkpoint.settings.mqtt import MqttSettings
from edge.service import EdgeService
from tests.edge.uplink.support import NodeFactory, Subscriber
from tests.helpers import wait_for


class Running:
    """An EdgeService on a thread, a subscriber on its events, and a way to talk to it."""

    def __init__(self, config: NodeConfig, path: Path, host: str, port: int) -> None:
        path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
        self.path = path
        self.host, self.port = host, port
        self.factory = NodeFactory()
        self.events = Subscriber(host, port, f"checkpoint/v1/up/{config.node_id}/events/#")
        self.events.start()
        self.service = EdgeService(config, config_path=path, node_factory=self.factory)
        self.thread = threading.Thread(target=self.service.run)
        self.thread.start()

    def send(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        publish.single(
            topic,
            payload,
            qos=1,
            retain=retain,
            hostname=self.host,
            port=self.port,
            protocol=MQTTProtocolVersion.MQTTv5,
        )

    def push(self, version: str, config: dict[str, Any]) -> None:
        push = ConfigPush(version=version, config=config, issued_at=datetime.now(UTC))
        node_id = self.service.config.node_id
        self.send(topics.config_topic(node_id), encode(push), retain=True)

    def acks(self) -> list[ConfigAck]:
        node_id = self.service.config.node_id
        topic = topics.event_topic(node_id, "config_ack")
        return [decode_event(topic, p) for p in self.events.payloads("/config_ack")]  # type: ignore[misc]

    def results(self) -> list[CommandResult]:
        topic = topics.event_topic(self.service.config.node_id, "command_result")
        return [decode_event(topic, p) for p in self.events.payloads("/command_result")]  # type: ignore[misc]

    def stop(self) -> None:
        self.service.request_stop()
        self.thread.join(10)
        self.events.stop()
        # Clear the retained config so that no later subscriber sees it.
        self.send(topics.config_topic(self.service.config.node_id), b"", retain=True)


def node_config(
    unique: str, tmp_path: Path, mqtt: MqttSettings, health_interval_s: float = 3600
) -> NodeConfig:
    return NodeConfig(
        node_id=f"{unique}-n1",
        checkpoint_id=f"{unique}-cp",
        ward_id="w1",
        version="v1",
        mqtt=mqtt,
        uplink=UplinkSettings.model_validate(
            {
                "outbox": {"path": str(tmp_path / "outbox.sqlite")},
                "link": {"backoff_min_s": 0.1, "backoff_max_s": 0.4},
            }
        ),
        health=HealthConfig(interval_s=health_interval_s),
    )


@pytest.fixture
def running(tmp_path: Path, stack: LocalStack, unique: str) -> Iterator[Running]:
    mqtt = MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port)
    node = Running(
        node_config(unique, tmp_path, mqtt),
        tmp_path / "node.yaml",
        stack.mqtt_host,
        stack.mqtt_port,
    )
    wait_for(node.service.link.connected.is_set, what="the node to connect")
    yield node
    node.stop()


def test_a_good_config_is_applied_written_and_acked(running: Running) -> None:
    data = running.service.config.model_dump(mode="json")
    data["thermometer"]["samples"] = 7
    running.push("v2", data)
    [ack] = wait_for(running.acks, what="the config ack")
    assert (ack.version, ack.applied, ack.error) == ("v2", True, None)
    assert running.service.config.version == "v2"
    assert "config_refused" not in running.service.flags()
    old, new = running.factory.built
    assert old.closed
    assert not new.closed
    assert new.config.thermometer.samples == 7
    on_disk = load_model(NodeConfig, running.path)
    assert (on_disk.version, on_disk.thermometer.samples) == ("v2", 7)
    assert not list(running.path.parent.glob(".node.yaml.*")), "no temp file left behind"


def test_a_push_that_leaves_out_the_outbox_keeps_it(running: Running) -> None:
    current = running.service.config
    minimal = {
        "node_id": current.node_id,
        "checkpoint_id": current.checkpoint_id,
        "ward_id": current.ward_id,
        "mqtt": current.mqtt.model_dump(mode="json"),
    }
    running.push("v5", minimal)
    [ack] = wait_for(running.acks, what="the ack")
    assert (ack.version, ack.applied) == ("v5", True)
    assert running.service.config.uplink.outbox.path == current.uplink.outbox.path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # The pushed config sets emissivity already: no "did you mean" for it.
        ({"thermometer": {"emisivity": 0.9}}, "thermometer.emisivity: unknown key"),
        ({"thermometer": {"samples": "many"}}, "thermometer.samples: Input should be"),
        ({"node_id": "someone-else"}, "config is for node 'someone-else'"),
    ],
)
def test_a_bad_config_is_refused_and_the_old_one_keeps_running(
    running: Running, change: dict[str, Any], message: str
) -> None:
    before = running.path.read_bytes()
    data = running.service.config.model_dump(mode="json")
    for key, value in change.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    running.push("v2-bad", data)
    [ack] = wait_for(running.acks, what="the refusal")
    assert (ack.version, ack.applied) == ("v2-bad", False)
    assert message in (ack.error or "")
    assert running.service.config.version == "v1"
    [node] = running.factory.built
    assert not node.closed
    assert running.path.read_bytes() == before
    assert "config_refused" in running.service.emit_health().flags


def test_a_config_the_node_cannot_run_on_is_rolled_back(running: Running) -> None:
    data = running.service.config.model_dump(mode="json")
    data["thermometer"]["samples"] = 13  # valid, but ScriptedNode refuses to build on it
    running.push("v3", data)
    [ack] = wait_for(running.acks, what="the refusal")
    assert (ack.version, ack.applied) == ("v3", False)
    assert "overheat" in (ack.error or "")
    assert running.service.config.version == "v1"
    first, rebuilt = running.factory.built
    assert first.closed
    assert not rebuilt.closed
    assert rebuilt.config.version == "v1"
    assert load_model(NodeConfig, running.path).version == "v1"


def test_a_malformed_push_is_refused_with_the_reason(running: Running) -> None:
    running.send(topics.config_topic(running.service.config.node_id), b"{not json", retain=True)
    [ack] = wait_for(running.acks, what="the refusal")
    assert (ack.version, ack.applied) == ("unknown", False)
    assert "not_json" in (ack.error or "")
    assert len(running.factory.built) == 1


def test_commands_are_answered(running: Running) -> None:
    node_id = running.service.config.node_id
    for name in ("remeasure", "barrier_test"):
        command = Command(id=f"c-{name}", name=name, issued_at=datetime.now(UTC))  # type: ignore[arg-type]
        running.send(topics.command_topic(node_id), encode(command))
    results = wait_for(lambda: r if len(r := running.results()) == 2 else [], what="two results")
    by_id = {r.command_id: r for r in results}
    remeasure = by_id["c-remeasure"]
    assert remeasure.ok
    readings = wait_for(lambda: running.events.payloads("/reading"), what="the new reading")
    assert json.loads(readings[0])["id"] == remeasure.detail
    assert not by_id["c-barrier_test"].ok
    assert "does not support barrier_test" in by_id["c-barrier_test"].detail


def test_refused_credentials_show_in_health(
    tmp_path: Path, locked_broker: Mosquitto, unique: str
) -> None:
    mqtt = MqttSettings(
        host="127.0.0.1", port=locked_broker.port, username="node1", password="wrong"
    )
    config = node_config(unique, tmp_path, mqtt)
    service = EdgeService(config, node_factory=NodeFactory())
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        wait_for(lambda: "auth_refused" in service.link.flags, what="the refusal")
        health = service.emit_health()
        assert "auth_refused" in health.flags
        assert not service.link.connected.is_set()
        assert health.seq in [s.seq for s in service.outbox.after(-1, 100)], "kept to send"
    finally:
        service.request_stop()
        thread.join(10)
    assert not thread.is_alive()


def test_a_link_settings_change_reconnects(running: Running) -> None:
    data = running.service.config.model_dump(mode="json")
    data["uplink"]["link"] = LinkSettings(backoff_min_s=0.2, backoff_max_s=1).model_dump()
    first_link = running.service.link
    running.push("v4", data)
    [ack] = wait_for(running.acks, what="the ack")
    assert ack.applied
    assert running.service.link is not first_link
    wait_for(running.service.link.connected.is_set, what="the new link to connect")


def test_health_is_reported_periodically(tmp_path: Path, stack: LocalStack, unique: str) -> None:
    mqtt = MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port)
    config = node_config(unique, tmp_path, mqtt, health_interval_s=0.3)
    node = Running(config, tmp_path / "node.yaml", stack.mqtt_host, stack.mqtt_port)
    try:
        reports = wait_for(
            lambda: h if len(h := node.events.payloads("/health")) >= 3 else [],
            what="three health events",
        )
    finally:
        node.stop()
    topic = topics.event_topic(config.node_id, "health")
    health = [decode_event(topic, p) for p in reports]
    assert all(isinstance(h, Health) for h in health)
    assert [h.config_version for h in health if isinstance(h, Health)] == ["v1"] * len(health)
    gaps = [(b.ts - a.ts).total_seconds() for a, b in itertools.pairwise(health)]
    assert all(g >= 0.25 for g in gaps), gaps


def test_disk_full_is_reported_until_a_health_report_carrying_it_is_stored(
    tmp_path: Path, unique: str
) -> None:
    """The outbox clears ``disk_full`` at its first append that fits again; the health
    reports made while the disk was full were lost with the rest, so without the runtime
    remembering it the hub would never hear that events were lost."""
    mqtt = MqttSettings(host="127.0.0.1", port=9)  # no uplink needed: nothing is sent
    service = EdgeService(node_config(unique, tmp_path, mqtt), node_factory=NodeFactory())
    try:
        service.outbox.lost = 3  # what a full disk left behind, the flag already cleared
        assert "disk_full" not in service.outbox.flags
        assert "disk_full" in service.flags()
        health = service.emit_health()  # stored: this one tells the hub
        assert "disk_full" in health.flags
        assert health.outbox_dropped == 3
        assert "disk_full" not in service.flags()
    finally:
        service.outbox.close()  # the link was never started
