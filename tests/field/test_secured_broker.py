"""The provisioned TLS and ACL files on a real Mosquitto: each node is confined to its own
topics, a client without a ward certificate is refused, the hub sees everything."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.contract import topics
from checkpoint.contract.node.config import NodeConfig
from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.localstack.process import free_port
from checkpoint.settings.loading import read_yaml
from greenzone.provision.broker import service_conf
from greenzone.provision.bundle import Bundle
from tests.field.clients import Refused, User
from tests.provisioned import hub_session

N1, N2 = "testward-cp02-n1", "testward-cp02-n2"
HUB = "testward-hub"


def node(bundle: Bundle, node_id: str) -> User:
    return User(node_id, bundle.node_dir(node_id))


@pytest.fixture
def hub(bundle: Bundle, secure_broker: Mosquitto) -> Iterator[User]:
    user = hub_session(bundle, HUB)
    user.connect(secure_broker.host, secure_broker.port)
    user.subscribe(f"{topics.ROOT}/#")
    yield user
    user.close()


@pytest.fixture
def n1(bundle: Bundle, secure_broker: Mosquitto) -> Iterator[User]:
    user = node(bundle, N1)
    user.connect(secure_broker.host, secure_broker.port)
    yield user
    user.close()


@pytest.fixture
def n2(bundle: Bundle, secure_broker: Mosquitto) -> Iterator[User]:
    user = node(bundle, N2)
    user.connect(secure_broker.host, secure_broker.port)
    yield user
    user.close()


def test_the_hub_reads_what_each_node_publishes_under_its_own_id(
    hub: User, n1: User, n2: User
) -> None:
    n1.publish(topics.event_topic(N1, "passage"), b"from n1")
    n2.publish(topics.status_topic(N2), b"from n2")
    seen = {m.topic: m.payload for m in hub.receive_until(b"from n1")}
    seen |= {m.topic: m.payload for m in hub.receive_until(b"from n2")}
    assert seen[topics.event_topic(N1, "passage")] == b"from n1"
    assert seen[topics.status_topic(N2)] == b"from n2"


@pytest.mark.parametrize(
    "topic",
    [topics.event_topic(N2, "passage"), topics.config_topic(N2), topics.trust_topic("keys")],
)
def test_a_node_cannot_publish_under_another_nodes_id(
    bundle: Bundle, secure_broker: Mosquitto, hub: User, topic: str
) -> None:
    forger = node(bundle, N1)
    forger.connect(secure_broker.host, secure_broker.port)
    forger.publish_denied(topic, b"forged")
    # The broker dropped the forgery before it closed the connection; a marker sent
    # afterwards reaches the hub after anything routed before it.
    again = node(bundle, N1)
    again.connect(secure_broker.host, secure_broker.port)
    again.publish(topics.event_topic(N1, "health"), b"marker")
    again.close()
    got = hub.receive_until(b"marker")
    assert [m.topic for m in got if m.payload == b"forged"] == []


def test_the_broker_refuses_a_message_of_more_than_a_mebibyte(
    bundle: Bundle, secure_broker: Mosquitto, hub: User
) -> None:
    """The hub refuses anything over 64 KiB, but it would first have to read it: the
    provisioned broker stops a huge message itself (max_packet_size) and drops the client."""
    sender = node(bundle, N1)
    sender.connect(secure_broker.host, secure_broker.port)
    sender.publish_denied(topics.event_topic(N1, "passage"), b"x" * (2 * 1024 * 1024))
    again = node(bundle, N1)
    again.connect(secure_broker.host, secure_broker.port)
    again.publish(topics.event_topic(N1, "passage"), b"y" * (512 * 1024))  # within the limit
    again.publish(topics.event_topic(N1, "health"), b"marker")
    again.close()
    got = hub.receive_until(b"marker")
    assert [len(m.payload) for m in got if m.payload[:1] in (b"x", b"y")] == [512 * 1024]


def test_a_node_reads_its_own_commands_and_trust_data_but_not_another_nodes(
    hub: User, n1: User, n2: User
) -> None:
    n1.subscribe(topics.command_topic(N2))
    n1.subscribe(f"{topics.DOWN}/+/commands")
    n1.subscribe(topics.command_topic(N1))
    n1.subscribe(f"{topics.TRUST}/#")
    n2.subscribe(topics.command_topic(N2))

    hub.publish(topics.command_topic(N2), b"for n2")
    hub.publish(topics.trust_topic("keys"), b"trust")
    hub.publish(topics.command_topic(N1), b"for n1")

    assert [m.payload for m in n2.receive_until(b"for n2")] == [b"for n2"]
    got = [m.payload for m in n1.receive_until(b"for n1")]
    assert b"trust" in got
    assert b"for n2" not in got


def test_a_client_without_a_ward_certificate_is_refused(
    bundle: Bundle, secure_broker: Mosquitto, tmp_path: Path
) -> None:
    (tmp_path / "ward-ca.pem").write_bytes((bundle.out / "broker" / "ward-ca.pem").read_bytes())
    user = User(N1, tmp_path, username=N1)
    with pytest.raises((Refused, ssl.SSLError, OSError)):
        user.connect(secure_broker.host, secure_broker.port, timeout_s=5)


def test_queued_qos1_messages_survive_a_broker_restart(bundle: Bundle, tmp_path: Path) -> None:
    port = free_port()
    broker = Mosquitto(
        tmp_path,
        port=port,
        extra_config=service_conf(port, bundle.out / "broker", bind="127.0.0.1"),
    )
    broker.start()
    try:
        hub = hub_session(bundle, HUB)
        hub.connect(broker.host, broker.port, session_expiry_s=3600)
        hub.subscribe(f"{topics.UP}/+/events/+")
        hub.close()  # away, but the broker keeps its session and queues for it

        n1 = node(bundle, N1)
        n1.connect(broker.host, broker.port)
        n1.publish(topics.event_topic(N1, "passage"), b"queued while the hub was away")
        n1.close()
        broker.restart()

        hub = hub_session(bundle, HUB)
        hub.connect(broker.host, broker.port, session_expiry_s=3600)
        got = hub.receive_until(b"queued while the hub was away")
        hub.close()
        assert got[-1].topic == topics.event_topic(N1, "passage")
    finally:
        broker.stop()


def test_a_provisioned_node_config_reaches_the_broker(
    bundle: Bundle, secure_broker: Mosquitto, hub: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The node's config.yaml as written, with systemd's credential directory played by
    the bundle: its certificate gets it in."""
    where = bundle.node_dir(N2)
    data = read_yaml(where / "config.yaml")
    tls = data["mqtt"]["tls"]
    for key in ("cert_file", "key_file"):  # /run/credentials/<unit>/X -> the bundle's X
        tls[key] = str(where / Path(tls[key]).name)
    tls["ca_file"] = str(where / "ward-ca.pem")
    data["mqtt"] |= {"host": secure_broker.host, "port": secure_broker.port}
    config = NodeConfig.model_validate(data)
    settings = config.mqtt
    assert settings.username == N2
    client = settings.new_client(N2)
    client.connect(settings.host, settings.port)
    client.loop_start()
    try:
        client.publish(topics.event_topic(N2, "health"), b"from config", qos=1).wait_for_publish(10)
        assert hub.receive_until(b"from config")[-1].topic == topics.event_topic(N2, "health")
    finally:
        client.disconnect()
        client.loop_stop()
