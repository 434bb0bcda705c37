"""The MQTT link against real Mosquitto brokers: sent after PUBACK, online/offline status,
refused credentials, and a day offline drained (passages first, each class in order)
within the rate limit. Confirmation by a real hub: tests/edge/uplink/test_confirm.py."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.contract import NodeStatus, topics
from checkpoint.contract.node.uplink import LinkSettings, OutboxSettings
from checkpoint.localstack import LocalStack, Mosquitto
from checkpoint.localstack.process import free_port
from checkpoint.settings.mqtt import MqttSettings
from edge.uplink.link import Link
from edge.uplink.outbox import Outbox
from edge.uplink.ratelimit import TokenBucket
from tests.edge.uplink.support import Subscriber, passage, reading
from tests.helpers import wait_for

# Like the node's passage, barrier and health threads, but more of them: they share fsyncs
# (group commit), which keeps a day of traffic quick to write on a busy test machine.
WRITERS = 16
FAST = LinkSettings(backoff_min_s=0.1, backoff_max_s=0.4, connect_timeout_s=5)


@pytest.fixture
def outbox(tmp_path: Path, unique: str) -> Iterator[Outbox]:
    box = Outbox(
        tmp_path / "outbox.sqlite",
        node_id=f"{unique}-n1",
        checkpoint_id=f"{unique}-cp",
        ward_id="w1",
        max_bytes=10**9,
    )
    yield box
    box.close()


def make_link(outbox: Outbox, mqtt: MqttSettings, drain: OutboxSettings | None = None) -> Link:
    return Link(outbox.node_id, mqtt, outbox, drain=drain or OutboxSettings(), link=FAST)


def test_an_event_is_sent_only_after_the_broker_has_it_and_kept_for_the_hub(
    stack: LocalStack, outbox: Outbox
) -> None:
    sub = Subscriber(stack.mqtt_host, stack.mqtt_port, f"checkpoint/v1/up/{outbox.node_id}/#")
    sub.start()
    link = make_link(outbox, MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port))
    try:
        event = passage(outbox)
        assert outbox.depth == 1
        link.start()
        wait_for(lambda: outbox.depth == 0, what="the PUBACK to mark the event sent")
        assert outbox.held == 1, "kept until the hub confirms it (no hub here)"
        [payload] = wait_for(lambda: sub.payloads("/events/passage"), what="the event")
        assert json.loads(payload)["id"] == event.id
        status = NodeStatus.model_validate_json(sub.payloads("/status")[0])
        assert status.state == "online"
    finally:
        link.stop()
    # A clean stop says offline itself, retained for whoever looks later.
    wait_for(lambda: b'"offline"' in sub.payloads("/status")[-1], what="offline status")
    later = Subscriber(stack.mqtt_host, stack.mqtt_port, topics.status_topic(outbox.node_id))
    later.start()
    try:
        msg = wait_for(lambda: later.messages, what="the retained status")[0]
        assert msg.retain
        assert NodeStatus.model_validate_json(msg.payload).state == "offline"
    finally:
        later.stop()
        sub.stop()


def test_wrong_credentials_are_refused_and_flagged(
    locked_broker: Mosquitto, outbox: Outbox
) -> None:
    wrong = MqttSettings(
        host="127.0.0.1", port=locked_broker.port, username="node1", password="wrong"
    )
    link = make_link(outbox, wrong)
    event = passage(outbox)
    link.start()
    try:
        wait_for(lambda: link.stats["refused"] >= 2, what="refusals, retried with backoff")
        assert "auth_refused" in link.flags
        assert not link.connected.is_set()
        assert link.stats["connects"] == 0
        # Mosquitto 2.0 answers "Not authorized" (0x87), newer ones 0x86.
        assert link.last_refusal in ("Not authorized", "Bad user name or password")
        assert [s.seq for s in outbox.after(-1, 10)] == [event.seq], "the event is kept"
    finally:
        link.stop()
    # The same node with the right password gets through, and the flag clears.
    right = wrong.model_copy(update={"password": "right"})
    link = make_link(outbox, right)
    link.start()
    try:
        wait_for(lambda: outbox.depth == 0, what="delivery with the right password")
        assert "auth_refused" not in link.flags
    finally:
        link.stop()


def test_an_event_the_broker_refuses_is_set_aside_and_blocks_nothing(
    acl_broker: Mosquitto, tmp_path: Path
) -> None:
    # The ACL takes passages but not readings: PUBACK "Not authorized" for the reading
    # (and Mosquitto 2.0 then drops the connection).
    outbox = Outbox(
        tmp_path / "outbox.sqlite",
        node_id="node1",
        checkpoint_id="cp",
        ward_id="w1",
        max_bytes=10**9,
    )
    mqtt = MqttSettings(host="127.0.0.1", port=acl_broker.port, username="node1", password="right")
    link = make_link(outbox, mqtt)
    refused = reading(outbox)
    behind = [passage(outbox) for _ in range(3)]
    link.start()
    try:
        wait_for(lambda: outbox.depth == 0, what="the passages behind it delivered")
        assert outbox.rejected == 1
        assert "publish_refused" in link.flags
        assert link.stats["acked"] == len(behind)
    finally:
        link.stop()
        outbox.close()
    with sqlite3.connect(tmp_path / "outbox.sqlite") as db:
        [(seq, reason, payload)] = db.execute("SELECT seq, reason, payload FROM rejected")
    assert (seq, reason) == (refused.seq, "Not authorized")
    assert json.loads(payload)["id"] == refused.id


def test_a_broker_that_is_down_is_retried_with_backoff(tmp_path: Path, outbox: Outbox) -> None:
    port = free_port()
    broker = Mosquitto(tmp_path / "late", port=port)
    link = make_link(outbox, MqttSettings(host="127.0.0.1", port=port))
    passage(outbox)
    link.start()
    try:
        wait_for(lambda: "uplink_unreachable" in link.flags, what="the unreachable flag")
        broker.start()
        wait_for(lambda: outbox.depth == 0, what="delivery once the broker is up")
        assert "uplink_unreachable" not in link.flags
    finally:
        link.stop()
        broker.stop()


def drain_offline_backlog(own_broker: Mosquitto, outbox: Outbox, count: int) -> None:
    rate, burst = 8000.0, 400
    settings = MqttSettings(host=own_broker.host, port=own_broker.port)
    sub = Subscriber(
        own_broker.host,
        own_broker.port,
        f"checkpoint/v1/up/{outbox.node_id}/events/#",
        persistent=True,
    ).start()
    link = make_link(outbox, settings, OutboxSettings(window=200, rate_per_s=rate, burst=burst))
    link.start()
    try:
        wait_for(link.connected.is_set, what="the first connection")
        own_broker.stop()  # the uplink goes down for "a day"
        wait_for(lambda: not link.connected.is_set(), what="the node to notice")

        def traffic(kind: int) -> None:
            for i in range(count // WRITERS):
                (passage if (i + kind) % 3 else reading)(outbox)

        writers = [threading.Thread(target=traffic, args=(k,)) for k in range(WRITERS)]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        assert outbox.depth == count
        own_broker.start()  # same port, same persistence: the subscriber's session waits
        began = time.monotonic()
        wait_for(lambda: outbox.depth == 0, timeout_s=120, what="the backlog to drain")
        took = time.monotonic() - began

        def all_seqs() -> list[tuple[int, str]]:
            seqs = [(json.loads(p)["seq"], json.loads(p)["type"]) for p in sub.payloads()]
            return seqs if len(set(seqs)) == count else []

        seqs = wait_for(all_seqs, timeout_s=60, what="every event at the subscriber")
    finally:
        link.stop()
        sub.stop()
    first_seen = list(dict.fromkeys(seqs))
    # Passages first, then readings; each class in the order it happened.
    urgent = [s for s, t in first_seen if t != "reading"]
    readings = [s for s, t in first_seen if t == "reading"]
    assert [s for s, _ in first_seen] == urgent + readings, "a reading went before a passage"
    assert urgent == sorted(urgent), "passages delivered out of order"
    assert readings == sorted(readings), "readings delivered out of order"
    assert sorted(urgent + readings) == list(range(count))
    # Never faster than the rate limit allows (the bucket starts full: one burst free).
    assert took >= (count - burst) / rate * 0.95, f"{count} events drained in {took:.2f}s"


def test_a_day_offline_is_delivered_in_order_within_the_rate_limit(
    own_broker: Mosquitto, outbox: Outbox
) -> None:
    drain_offline_backlog(own_broker, outbox, 20_000)


@pytest.mark.slow
def test_a_busy_day_offline_long(own_broker: Mosquitto, outbox: Outbox) -> None:
    drain_offline_backlog(own_broker, outbox, 100_000)


def test_token_bucket_limits_rate_and_burst() -> None:
    now = [0.0]
    bucket = TokenBucket(100.0, 10, clock=lambda: now[0])
    assert bucket.available() == 10
    bucket.take(10)
    assert bucket.available() == 0
    now[0] = 0.05
    assert bucket.available() == 5
    now[0] = 10.0
    assert bucket.available() == 10  # never more than the burst
