"""Who a client is on the provisioned broker: its certificate, nothing it claims.

The broker takes the account from the certificate's common name and makes it the client
id (greenzone/provision/broker.py). A node that connects with the hub's client id, the
hub's user name, or another node's user name and password is still only itself: it
cannot take over the hub's session (whose queued events stay queued), kick the hub off,
read what the hub reads, or publish as the other node. Mosquitto 2.0 ignores a password
on such a listener, so the connection itself is accepted, as the certificate's account.
"""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.contract import topics
from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.localstack.process import free_port
from greenzone.provision.broker import service_conf
from greenzone.provision.bundle import Bundle, provision
from greenzone.provision.report import summary
from tests.field.clients import Refused, User
from tests.provisioned import hub_session, small_ward

N1, N2 = "testward-cp02-n1", "testward-cp02-n2"
HUB = "testward-hub"
EVENTS = f"{topics.UP}/+/events/+"


@pytest.fixture
def n1(bundle: Bundle, secure_broker: Mosquitto) -> Iterator[User]:
    user = User(N1, bundle.node_dir(N1))
    user.connect(secure_broker.host, secure_broker.port)
    yield user
    user.close()


def hub_user(bundle: Bundle) -> User:
    return hub_session(bundle, HUB)


def impostor(bundle: Bundle, node_id: str, *, client_id: str, username: str) -> User:
    """``node_id``'s certificate, claiming another client id and user name."""
    return User(client_id, bundle.node_dir(node_id), username=username, password="guessed")


def test_a_node_with_the_hubs_client_id_cannot_take_the_hubs_session_or_its_queue(
    bundle: Bundle, secure_broker: Mosquitto, n1: User
) -> None:
    host, port = secure_broker.host, secure_broker.port
    hub = hub_user(bundle)
    hub.connect(host, port, session_expiry_s=3600)
    hub.subscribe(EVENTS)
    hub.close()  # away: the broker queues for its session

    sent = [f"queued {i}".encode() for i in range(40)]
    for payload in sent[:20]:
        n1.publish(topics.event_topic(N1, "passage"), payload)
    # A clean start with the hub's client id would throw the hub's session away.
    thief = impostor(bundle, N2, client_id=HUB, username=HUB)
    thief.connect(host, port)
    thief.subscribe(EVENTS)
    for payload in sent[20:]:
        n1.publish(topics.event_topic(N1, "passage"), payload)

    hub = hub_user(bundle)
    hub.connect(host, port, session_expiry_s=3600)
    try:
        got = [m.payload for m in hub.receive_until(sent[-1])]
    finally:
        hub.close()
    assert got == sent  # every queued event, in order: the session was the hub's throughout
    # The thief is N2, not the hub: the broker routed none of the hub's reading to it.
    assert thief.messages.empty()
    thief.close()


def test_a_node_with_the_hubs_client_id_does_not_kick_the_connected_hub(
    bundle: Bundle, secure_broker: Mosquitto, n1: User
) -> None:
    host, port = secure_broker.host, secure_broker.port
    hub = hub_user(bundle)
    hub.connect(host, port)
    hub.subscribe(EVENTS)
    try:
        for name in (HUB, f"{HUB}-priority", f"{HUB}-api", f"{HUB}-alerts"):
            thief = impostor(bundle, N2, client_id=name, username=name)
            thief.connect(host, port)
            thief.close()
        n1.publish(topics.event_topic(N1, "passage"), b"after the attempts")
        assert hub.receive_until(b"after the attempts")[-1].topic.endswith("/passage")
        assert not hub.disconnected.is_set()
    finally:
        hub.close()


def test_node_a_certificate_with_node_b_name_and_password_acts_only_as_a(
    bundle: Bundle, secure_broker: Mosquitto
) -> None:
    host, port = secure_broker.host, secure_broker.port
    hub = hub_user(bundle)
    hub.connect(host, port)
    hub.subscribe(EVENTS)
    n2 = User(N2, bundle.node_dir(N2))
    n2.connect(host, port)
    n2.subscribe(topics.command_topic(N2))
    try:
        thief = impostor(bundle, N1, client_id=N2, username=N2)
        thief.connect(host, port)
        thief.subscribe(topics.command_topic(N2))
        hub.publish(topics.command_topic(N2), b"for n2")
        assert [m.payload for m in n2.receive_until(b"for n2")] == [b"for n2"]
        # B's events are not A's to write: the broker drops the forgery and A's connection.
        thief.publish_denied(topics.event_topic(N2, "passage"), b"forged as n2")
        n2.publish(topics.event_topic(N2, "passage"), b"the real n2")
        got = [m.payload for m in hub.receive_until(b"the real n2")]
        assert b"forged as n2" not in got
        assert thief.messages.empty()  # B's commands never reached A
        assert not n2.disconnected.is_set()  # B's own session was never taken
    finally:
        n2.close()
        hub.close()


def test_the_command_centre_reads_its_wards_alerts_and_nothing_else(
    bundle: Bundle, secure_broker: Mosquitto
) -> None:
    host, port = secure_broker.host, secure_broker.port
    cc = User("anything", bundle.command_centre_dir, "command-centre")
    cc.connect(host, port)
    try:
        cc.subscribe(f"{topics.ROOT}/#")  # asks for everything, gets its ward's alerts
        hub = hub_session(bundle, f"{HUB}-alerts")
        hub.connect(host, port)
        hub.publish(topics.command_topic(N1), b"a command")
        hub.publish(topics.trust_topic("keys"), b"trust")
        hub.publish(topics.alert_topic("otherward"), b"not yours")
        hub.publish(topics.alert_topic("testward"), b"yours")
        hub.close()
        assert [m.payload for m in cc.receive_until(b"yours")] == [b"yours"]
        cc.publish_denied(topics.alert_topic("testward"), b"forged alert")
    finally:
        cc.close()


def test_a_replaced_or_removed_nodes_old_certificate_is_refused(tmp_path: Path) -> None:
    """Re-keying a lost node (its directory deleted, provisioning rerun) and removing a
    node revoke their old certificates: the broker refuses them at the TLS handshake."""
    ward = small_ward()
    first = provision(ward, tmp_path / "bundle")
    old = tmp_path / "old"
    shutil.copytree(first.node_dir(N1), old / N1)
    shutil.copytree(first.node_dir(N2), old / N2)
    shutil.rmtree(first.node_dir(N1))  # N1 lost: a new key and certificate
    one_node = ward.checkpoints[1].model_copy(update={"nodes": 1})  # N2 removed
    smaller = ward.model_copy(update={"checkpoints": [ward.checkpoints[0], one_node]})
    again = provision(smaller, tmp_path / "bundle")
    assert again.created == [N1]
    assert sorted(again.revoked) == [N1, N2]
    assert "Revoked certificates:" in summary(smaller, again)
    port = free_port()
    broker = Mosquitto(
        tmp_path / "broker",
        port=port,
        extra_config=service_conf(port, again.out / "broker", bind="127.0.0.1"),
    )
    broker.start()
    try:
        fresh = User(N1, again.node_dir(N1))
        fresh.connect(broker.host, port)
        fresh.close()
        for node_id in (N1, N2):
            stale = User(node_id, old / node_id)
            with pytest.raises((Refused, ssl.SSLError, OSError)):
                stale.connect(broker.host, port, timeout_s=5)
    finally:
        broker.stop()
