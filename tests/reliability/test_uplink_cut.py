"""A node's uplink cut for a long time while its traffic goes on, then restored: the backlog
drains at the node's configured rate, not in a flood, and the other nodes' events keep
flowing through the same broker and hub meanwhile.

The cut is a real one: the node process runs in a network namespace of its own, joined to
the host by a veth pair on a private /30, and reaches the broker on the host's end of the
pair. ``ip link set <host end> down`` cuts it: packets vanish, as when 4G drops, so the
node learns of it only from MQTT keepalive, and the broker only from its own (it then
publishes the node's last will). No process is stopped and nothing is simulated.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from checkpoint.contract.models import EventBase
from checkpoint.contract.node.uplink import LinkSettings
from checkpoint.settings.mqtt import MqttSettings
from edge.sim.ward import SimWard
from hub.influx.v1 import InfluxV1
from tests.edge.uplink.node_proc import NodeProcess, outbox_depth
from tests.edge.uplink.node_proc import write_config as write_node_config
from tests.edge.uplink.support import Received, Subscriber
from tests.helpers import wait_for
from tests.reliability.conftest import Ledger
from tests.reliability.ledger import account, fired_alert_kinds, stored_event_ids
from tests.reliability.nodeside import LONG, broker_settings, own_broker, running_hub

_names = itertools.count(1)
# The broker notices the silence (keepalive) and publishes the will; the node's health
# reports, delivered late from the outbox, show its depth rising through the cut.
EXPECTED = {"node_offline", "outbox_backlog"}


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass(frozen=True)
class VethNamespace:
    ns: str
    host_if: str
    host_ip: str
    ns_ip: str

    @property
    def prefix(self) -> list[str]:
        """Run a command inside the namespace."""
        return ["ip", "netns", "exec", self.ns]

    def cut(self) -> None:
        _ip("link", "set", self.host_if, "down")

    def restore(self) -> None:
        _ip("link", "set", self.host_if, "up")


@contextlib.contextmanager
def veth_namespace() -> Iterator[VethNamespace]:
    """A namespace with a veth pair to the host; names and /30 unique per test and process
    (other suites may run beside us), removed again whatever happens."""
    tag = f"{os.getpid() % 100000}x{next(_names)}"
    ns, host_if, ns_if = f"cpk{tag}", f"cph{tag}", f"cpn{tag}"  # interface names <= 15
    rng = random.Random()  # an address, not a secret
    net = f"10.{rng.randint(100, 250)}.{rng.randint(0, 255)}.{rng.randrange(0, 256, 4)}"
    base = net.rsplit(".", 1)[0]
    last = int(net.rsplit(".", 1)[1])
    host_ip, ns_ip = f"{base}.{last + 1}", f"{base}.{last + 2}"
    try:
        _ip("netns", "add", ns)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"no network namespaces here ({exc}); see docs/reliability.md")
    try:
        _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _ip("link", "set", ns_if, "netns", ns)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("netns", "exec", ns, "ip", "addr", "add", f"{ns_ip}/30", "dev", ns_if)
        _ip("netns", "exec", ns, "ip", "link", "set", ns_if, "up")
        _ip("netns", "exec", ns, "ip", "link", "set", "lo", "up")
        yield VethNamespace(ns, host_if, host_ip, ns_ip)
    finally:
        # Deleting the namespace deletes its end of the pair, and with it the host's end.
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, check=False)


@dataclass(frozen=True)
class Arrival:
    node: str
    seq: int
    at: float


def arrivals(messages: list[Received]) -> list[Arrival]:
    found = []
    for m in messages:
        body = json.loads(m.payload)
        found.append(Arrival(body["node_id"], body["seq"], m.at))
    return found


def most_in_window(times: list[float], window_s: float) -> int:
    """The most arrivals within any ``window_s`` (sliding, anchored at each arrival)."""
    times = sorted(times)
    best, j = 0, 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + window_s:
            j += 1
        best = max(best, j - i)
    return best


@pytest.mark.parametrize(
    ("cut_s", "emit_per_s"),
    [
        pytest.param(10.0, 25.0, id="short"),
        pytest.param(200.0, 20.0, id="long", marks=LONG),
    ],
)
def test_uplink_cut_then_restored_drains_without_flooding(
    tmp_path: Path, influx: InfluxV1, unique: str, ledger: Ledger, cut_s: float, emit_per_s: float
) -> None:
    rate, burst, window = 50.0, 10, 10  # the cut node's drain limit (OutboxSettings)
    node_id = f"{unique}-n1"
    state = tmp_path / "state" / "outbox.sqlite"
    others: list[EventBase] = []
    with (
        veth_namespace() as net,
        own_broker(tmp_path / "broker", also_on=net.host_ip) as broker,
        running_hub(broker_settings(broker), influx, f"hub-{unique}", tmp_path / "hub"),
    ):
        watcher = Subscriber(broker.host, broker.port, "checkpoint/v1/up/+/events/#").start()
        node_mqtt = MqttSettings(host=net.host_ip, port=broker.port, keepalive_s=5)
        config = write_node_config(
            tmp_path,
            unique,
            node_mqtt,
            ward=unique,
            window=window,
            rate=rate,
            burst=burst,
            health_s=1.0,
            link=LinkSettings(backoff_min_s=0.5, backoff_max_s=2.0, connect_timeout_s=3.0),
        )
        before_s = 2.0
        # Traffic for the whole cut and a moment after; then the drain is the backlog alone.
        count = int(emit_per_s * (before_s + cut_s + 1))
        node = NodeProcess(config, count, rate=emit_per_s, prefix=net.prefix)
        ward = SimWard(
            f"{unique}o", 2, broker_settings(broker), on_event=others.append, health_interval_s=1.0
        )
        stop = threading.Event()
        traffic = threading.Thread(target=ward.run, args=(stop, 3.0), daemon=True)
        try:
            ward.connect()
            traffic.start()
            wait_for(
                lambda: any(node_id in m.topic for m in watcher.messages),
                timeout_s=30,
                what="the namespaced node's first event at the broker",
            )
            time.sleep(before_s)
            net.cut()
            time.sleep(cut_s)
            backlog = outbox_depth(state)
            net.restore()
            restored = time.monotonic()
            wait_for(
                lambda: outbox_depth(state) == 0 and len(node.emitted("passage")) == count,
                timeout_s=60 + 3 * backlog / (rate - emit_per_s),
                what="the backlog drained",
            )
            drained = time.monotonic()
            time.sleep(1.0)  # the other nodes go on a little after the drain
        finally:
            stop.set()
            traffic.join(10)
            ward.close(drain_s=30)
            code = node.stop()
            watcher.stop()
        assert code == 0
        emitted = [e.id for e in node.emitted()] + [e.id for e in others]
        nodes = [node_id, *(n.config.node_id for n in ward.nodes)]
        wait_for(
            lambda: set(stored_event_ids(influx, nodes=nodes)) >= set(emitted),
            timeout_s=60,
            what="every event stored",
        )
        wait_for(
            lambda: (
                {"node_offline", "outbox_backlog"} <= set(fired_alert_kinds(influx, ward=unique))
            ),
            timeout_s=30,
            what="the node_offline and outbox_backlog alerts",
        )
    seen = arrivals(watcher.messages)
    mine = [a.at for a in seen if a.node == node_id and a.at >= restored]
    theirs = [a.at for a in seen if a.node != node_id and restored <= a.at <= drained]
    drain_s = max(mine) - restored
    # The token bucket allows the burst, plus the window published before the cut that TCP
    # may retransmit at once, plus ``rate`` a second: 25 % and a second of slack for a
    # loaded machine batching deliveries, never a flood of the whole backlog at once.
    allowed_total = window + burst + rate * drain_s * 1.25 + rate
    slide_s = 2.0
    allowed_window = window + burst + rate * (slide_s + 1.0)
    assert backlog > allowed_window, "the backlog is too small for the check to mean anything"
    assert len(mine) <= allowed_total, (len(mine), drain_s, allowed_total)
    busiest = most_in_window(mine, slide_s)
    assert busiest <= allowed_window, (busiest, allowed_window)
    # The others kept flowing while the backlog drained: no silence of more than a few
    # seconds (they send health every second and passages ~3 a second between them).
    gaps = [b - a for a, b in itertools.pairwise([restored, *sorted(theirs), drained])]
    assert max(gaps) < 5.0, f"the other nodes' traffic stalled for {max(gaps):.1f}s"
    ledger.record(
        account(
            f"node uplink cut {cut_s:.0f}s (veth down)",
            emitted,
            stored_event_ids(influx, nodes=nodes),
            alerts_expected=sorted(EXPECTED),
            alerts_fired=fired_alert_kinds(influx, ward=unique),
            backlog=backlog,
            drain_s=round(drain_s, 1),
            drain_rate_per_s=round(len(mine) / drain_s, 1),
            configured_rate_per_s=rate,
            others_during_drain=len(theirs),
        )
    )
