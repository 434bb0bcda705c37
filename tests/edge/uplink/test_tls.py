"""TLS from the node config against a real Mosquitto TLS listener."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.contract.node.uplink import LinkSettings, OutboxSettings
from checkpoint.localstack import Mosquitto
from checkpoint.localstack.process import free_port
from checkpoint.settings.mqtt import MqttSettings, TlsSettings
from edge.uplink.link import Link
from edge.uplink.outbox import Outbox
from tests.edge.uplink.certs import make_ca, make_server_cert
from tests.edge.uplink.support import passage
from tests.helpers import wait_for


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Mosquitto, Path]]:
    certs = tmp_path / "certs"
    certs.mkdir()
    ca, ca_key, ca_name = make_ca(certs, "ward-ca")
    cert, key = make_server_cert(certs, ca_key, ca_name)
    port = free_port()
    broker = Mosquitto(
        tmp_path / "tls",
        port=port,
        extra_config=(
            f"listener {port} 127.0.0.1\nallow_anonymous true\n"
            f"cafile {ca}\ncertfile {cert}\nkeyfile {key}"
        ),
    )
    broker.start()
    yield broker, ca
    broker.stop()


def run_link(tmp_path: Path, port: int, ca: Path) -> tuple[Link, Outbox]:
    outbox = Outbox(
        tmp_path / "outbox.sqlite",
        node_id="tls-n1",
        checkpoint_id="cp",
        ward_id="w1",
        max_bytes=10**9,
    )
    mqtt = MqttSettings(host="127.0.0.1", port=port, tls=TlsSettings(ca_file=ca))
    link = Link(
        "tls-n1",
        mqtt,
        outbox,
        drain=OutboxSettings(),
        link=LinkSettings(backoff_min_s=0.1, backoff_max_s=0.4),
    )
    return link, outbox


def test_events_travel_over_tls(tmp_path: Path, tls_broker: tuple[Mosquitto, Path]) -> None:
    broker, ca = tls_broker
    link, outbox = run_link(tmp_path, broker.port, ca)
    passage(outbox)
    link.start()
    try:
        wait_for(lambda: outbox.depth == 0, what="delivery over TLS")
        assert not link.flags
    finally:
        link.stop()
        outbox.close()


def test_a_broker_signed_by_another_ca_is_not_trusted(
    tmp_path: Path, tls_broker: tuple[Mosquitto, Path]
) -> None:
    broker, _ = tls_broker
    other_ca, _, _ = make_ca(tmp_path, "someone-else")
    link, outbox = run_link(tmp_path, broker.port, other_ca)
    event = passage(outbox)
    link.start()
    try:
        wait_for(lambda: "tls_failed" in link.flags, what="the TLS failure flag")
        assert not link.connected.is_set()
        assert [s.seq for s in outbox.after(-1, 10)] == [event.seq]
    finally:
        link.stop()
        outbox.close()
