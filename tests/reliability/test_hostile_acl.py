"""A node publishing under another node's id, on the provisioned broker (TLS, accounts
bound to certificates, the generated ACL) with the real hub behind it.

The good node publishes real events through its own outbox and link; a second node, with
its own valid credentials, forges an event of the first and publishes it on the first's
topic. The broker refuses it (MQTT 5 PUBACK "Not authorized", or Mosquitto 2.0's way: it
drops the message and closes the connection); the hub never stores it, and the good
node's events are stored exactly. The same forgery on the forger's own topic gets past
the ACL and is dead-lettered by the hub as ``node_mismatch``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from paho.mqtt.reasoncodes import ReasonCode

from checkpoint.contract import Reading, encode, topics
from checkpoint.contract.node.uplink import LinkSettings, OutboxSettings
from checkpoint.localstack import Mosquitto
from checkpoint.settings.mqtt import MqttSettings
from edge.uplink.link import Link
from edge.uplink.outbox import Outbox
from greenzone.provision.bundle import Bundle
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.field.clients import User
from tests.helpers import wait_for
from tests.hub.conftest import fast_config, reading
from tests.provisioned import account_settings
from tests.reliability.conftest import Ledger
from tests.reliability.hostile import assert_hub_healthy
from tests.reliability.ledger import account, stored_event_ids

VICTIM, FORGER, HUB = "testward-cp02-n2", "testward-cp02-n1", "testward-hub"


@pytest.fixture
def hub(
    bundle: Bundle, secure_broker: Mosquitto, influx: InfluxV1, tmp_path: Path
) -> Iterator[HubService]:
    mqtt = account_settings(bundle, secure_broker, HUB)
    # The broker makes each session's client id its certificate's name: the hub's own.
    service = HubService(fast_config(mqtt, influx.url, influx.database, HUB, tmp_path))
    service.start()
    yield service
    service.stop()


class Victim:
    """The good node: its real outbox and link, with its own provisioned credentials."""

    def __init__(self, mqtt: MqttSettings, state: Path) -> None:
        self.outbox = Outbox(
            state / "outbox.sqlite",
            node_id=VICTIM,
            checkpoint_id="testward-cp02",
            ward_id="testward",
            max_bytes=64 * 1024 * 1024,
        )
        drain = OutboxSettings(path=state / "unused", rate_per_s=2000, burst=500)
        self.link = Link(VICTIM, mqtt, self.outbox, drain=drain, link=LinkSettings())
        self.emitted: list[str] = []

    def emit(self, n: int) -> None:
        for _ in range(n):
            event = self.outbox.emit(
                Reading, object_c=36.4, ambient_c=29.0, samples=5, spread_c=0.1, emissivity=0.98
            )
            self.emitted.append(event.id)

    def close(self) -> None:
        wait_for(lambda: self.outbox.depth == 0, timeout_s=60, what="the victim's outbox drained")
        self.link.stop()
        self.outbox.close()


def publish_refused(user: User, topic: str, payload: bytes, timeout_s: float = 15.0) -> str:
    """Publish at QoS 1 where the ACL forbids it; return how the broker refused it."""
    acks: queue.Queue[ReasonCode] = queue.Queue()
    gone = threading.Event()
    user.client.on_publish = lambda _c, _u, _mid, rc, _p: acks.put(rc)
    user.client.on_disconnect = lambda *_a: gone.set()
    user.client.publish(topic, payload, qos=1)
    try:
        rc = acks.get(timeout=timeout_s)
    except queue.Empty:
        rc = None
    if rc is not None and not rc.is_failure and not gone.is_set():
        raise AssertionError(f"the broker accepted {topic!r} from another node ({rc})")
    if rc is not None and rc.is_failure:
        return f"PUBACK {rc}"
    assert gone.wait(timeout_s), "neither a failing PUBACK nor a disconnect"
    return "disconnected"


def test_a_node_cannot_forge_another_nodes_events(
    bundle: Bundle,
    secure_broker: Mosquitto,
    hub: HubService,
    influx: InfluxV1,
    ledger: Ledger,
    tmp_path: Path,
) -> None:
    victim = Victim(account_settings(bundle, secure_broker, VICTIM), tmp_path)
    victim.link.start()
    try:
        assert victim.link.connected.wait(30)
        victim.emit(20)
        # A forged event of the victim's, well formed: only the ACL stands in its way.
        forged = reading(VICTIM, 999, ward="testward", temp=39.5)
        forger = User(FORGER, bundle.node_dir(FORGER))
        forger.connect(secure_broker.host, secure_broker.port)
        how = publish_refused(forger, topics.event_topic(VICTIM, "reading"), encode(forged))
        forger.close()
        victim.emit(20)
        # The same forgery on the forger's own topic: allowed by the ACL, refused by the hub.
        again = User(FORGER, bundle.node_dir(FORGER))
        again.connect(secure_broker.host, secure_broker.port)
        again.publish(topics.event_topic(FORGER, "reading"), encode(forged))
        again.close()
    finally:
        victim.close()
    store = hub.dead_letters
    assert store is not None
    wait_for(
        lambda: store.count_by_reason() == {"node_mismatch": 1},
        timeout_s=60,
        what="the forgery on the forger's own topic dead-lettered",
    )
    assert [d.payload for d in store.recent(5)] == [encode(forged)]
    wait_for(
        lambda: len(set(stored_event_ids(influx, nodes=[VICTIM]))) >= len(victim.emitted),
        timeout_s=60,
        what="the victim's events stored",
    )
    assert_hub_healthy(hub)
    everything = stored_event_ids(influx)
    assert forged.id not in everything
    # The account counts any stored event of the victim's that it did not emit as
    # unexpected: the forged one would show there.
    ledger.record(
        account(
            "node forging another node's events (ACL)",
            victim.emitted,
            stored_event_ids(influx, nodes=[VICTIM]),
            forged_publish=how,
            forged_stored=forged.id in everything,
            forged_on_own_topic="dead-lettered node_mismatch",
        )
    )
