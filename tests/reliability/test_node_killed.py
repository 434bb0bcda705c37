"""A node process killed with -9: between outbox append and PUBACK, and (as near to a power
cut as a test can get) in the middle of outbox writes.

kill -9 is not a power cut: the kernel still writes out what SQLite handed it. What it
does prove is that the outbox never relies on its process living through a write: each
commit is whole or absent, and a restart finds a usable file (power loss itself is
SQLite's WAL with ``synchronous=FULL``, which fsyncs every commit).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checkpoint.contract.node.uplink import LinkSettings
from checkpoint.localstack import Mosquitto
from checkpoint.settings.mqtt import MqttSettings
from edge.uplink.outbox import Outbox
from hub.config import IngestSettings
from hub.influx.v1 import InfluxV1
from tests.edge.uplink.node_proc import ROOT, NodeProcess, outbox_depth, outbox_event_ids
from tests.edge.uplink.node_proc import write_config as write_node_config
from tests.helpers import wait_for
from tests.reliability.conftest import Ledger
from tests.reliability.ledger import account, fired_alert_kinds, stored_event_ids
from tests.reliability.nodeside import LONG, broker_settings, own_broker, running_hub

QUICK_LINK = LinkSettings(backoff_min_s=0.2, backoff_max_s=1.0)


def kill_before_puback(broker: Mosquitto, config: Path, events: int) -> NodeProcess:
    """One round: the node runs, the broker stops answering, the node is killed -9."""
    node = NodeProcess(config, events)
    try:
        # Some flow normally first, so the kill comes to a node mid-stream.
        wait_for(
            lambda: len(node.emitted("passage")) >= events // 5,
            timeout_s=60,
            what="traffic under way",
        )
        broker.process.proc.send_signal(signal.SIGSTOP)  # type: ignore[union-attr]
        try:
            wait_for(
                lambda: len(node.emitted("passage")) == events,
                timeout_s=60,
                what="every passage appended",
            )
            time.sleep(0.3)  # let the link put its window into the stalled socket
        finally:
            node.kill()
            broker.process.proc.send_signal(signal.SIGCONT)  # type: ignore[union-attr]
    finally:
        node.kill()
    return node


@pytest.mark.parametrize(
    ("rounds", "events"),
    [pytest.param(1, 300, id="short"), pytest.param(5, 3000, id="long", marks=LONG)],
)
def test_node_killed_between_append_and_puback(
    tmp_path: Path, influx: InfluxV1, unique: str, ledger: Ledger, rounds: int, events: int
) -> None:
    """The broker is paused (SIGSTOP): the node keeps appending and publishing, and no
    PUBACK comes back. The node is killed -9, the broker resumes (it still holds what
    reached its socket and forwards that), the node restarts on the same outbox file and
    sends everything unacknowledged again. The hub stores each event once."""
    node_id = f"{unique}-n1"
    emitted: list[str] = []
    unacked: list[int] = []
    with own_broker(tmp_path / "broker") as broker:
        mqtt = broker_settings(broker)
        # The node process emits its events as fast as it can, past the hub's per-node
        # flood limit, which is not what this scenario is about: off here.
        no_limit = IngestSettings(node_max_per_minute=0)
        with running_hub(mqtt, influx, f"hub-{unique}", tmp_path / "hub", ingest=no_limit) as hub:
            config = write_node_config(
                tmp_path, unique, mqtt, ward=unique, window=50, rate=300, burst=50, link=QUICK_LINK
            )
            state = tmp_path / "state" / "outbox.sqlite"
            for _ in range(rounds):
                node = kill_before_puback(broker, config, events)
                emitted += [e.id for e in node.emitted()]
                unacked.append(outbox_depth(state))
                # The broker saw the connection die and published the last will: the hub
                # must have marked the node offline.
                wait_for(
                    lambda: "node_offline" in fired_alert_kinds(influx, ward=unique),
                    timeout_s=30,
                    what="the node_offline alert from the last will",
                )
            # The node comes back on the same file and only drains.
            node = NodeProcess(config, 0)
            try:
                wait_for(lambda: outbox_depth(state) == 0, timeout_s=120, what="outbox drained")
            finally:
                assert node.stop() == 0
            emitted += [e.id for e in node.emitted()]
            wait_for(
                lambda: set(stored_event_ids(influx, nodes=[node_id])) >= set(emitted),
                timeout_s=60,
                what="every event stored",
            )
            assert hub.ingest is not None
            redelivered = hub.ingest.stats["duplicates"]
    assert all(n > 0 for n in unacked), f"nothing was waiting for a PUBACK: {unacked}"
    ledger.record(
        account(
            f"node killed -9 before PUBACK ({rounds}x{events})",
            emitted,
            stored_event_ids(influx, nodes=[node_id]),
            alerts_expected=["node_offline"],
            alerts_fired=fired_alert_kinds(influx, ward=unique),
            unacked_at_kill=unacked,
            redelivered_to_hub=redelivered,
        )
    )


class Appenders:
    """tests/reliability/appender.py: a warm process that forks appenders on demand."""

    def __init__(self, path: Path, node_id: str, ward_id: str, workdir: Path) -> None:
        self.workdir = workdir
        self.rounds = 0
        self.zygote = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.appender", str(path), node_id, ward_id],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )

    def _ask(self, line: str) -> str:
        assert self.zygote.stdin is not None
        assert self.zygote.stdout is not None
        self.zygote.stdin.write(line + "\n")
        self.zygote.stdin.flush()
        return self.zygote.stdout.readline().strip()

    def run_and_kill(self, delay_s: float) -> dict[int, str]:
        """Start an appender, let it append for ``delay_s`` after its first append, kill
        it -9; every ``seq id`` it reported (each one an append that had returned)."""
        self.rounds += 1
        out = self.workdir / f"appends-{self.rounds}.txt"
        pid = int(self._ask(f"run {out}"))
        try:
            wait_for(
                lambda: out.exists() and out.stat().st_size > 0,
                timeout_s=30,
                what="the appender appending",
            )
            time.sleep(delay_s)
        finally:
            os.kill(pid, signal.SIGKILL)
            assert self._ask("reap") == "reaped"
        appended: dict[int, str] = {}
        for line in out.read_text().splitlines(keepends=True):
            if line.endswith("\n"):  # a write cut by the kill proves nothing either way
                seq, event_id = line.split()
                appended[int(seq)] = event_id
        return appended

    def close(self) -> None:
        self.zygote.kill()
        self.zygote.wait()


def check_after_power_cut(path: Path, node_id: str, returned: dict[int, str]) -> dict[int, str]:
    """The file as the next boot finds it: intact, opening as an outbox, every append that
    returned still there, every row a whole event. Returns what it holds."""
    db = sqlite3.connect(path)
    try:
        (check,) = db.execute("PRAGMA integrity_check").fetchone()
    finally:
        db.close()
    assert check == "ok", check
    outbox = Outbox(path, node_id=node_id, checkpoint_id="x", ward_id="x", max_bytes=10**9)
    try:
        assert "outbox_corrupt" not in outbox.flags, "the file was not usable and was set aside"
        depth = outbox.depth
    finally:
        outbox.close()
    held = outbox_event_ids(path, node_id)  # decodes every payload: nothing half-written
    assert depth == len(held)
    lost = {seq: i for seq, i in returned.items() if held.get(seq) != i}
    assert not lost, f"appends that had returned are gone: {sorted(lost)[:10]}"
    return held


@pytest.mark.parametrize(
    "kills", [pytest.param(20, id="short"), pytest.param(300, id="long", marks=LONG)]
)
def test_power_loss_during_outbox_writes(
    tmp_path: Path,
    influx: InfluxV1,
    mqtt_settings: MqttSettings,
    unique: str,
    ledger: Ledger,
    kills: int,
) -> None:
    """A process appending in a tight loop (two threads, group commits) is killed -9 at
    random moments, again and again, on one outbox file; after each kill the file is
    checked as the next boot would find it. Then a node on that file drains it through the
    real broker and hub, and every event it ever committed is stored once."""
    node_id = f"{unique}-n1"
    path = tmp_path / "state" / "outbox.sqlite"
    rng = random.Random(kills)
    returned: dict[int, str] = {}
    held: dict[int, str] = {}
    appenders = Appenders(path, node_id, unique, tmp_path)
    try:
        for _ in range(kills):
            returned.update(appenders.run_and_kill(rng.uniform(0.0, 0.15)))
            held = check_after_power_cut(path, node_id, returned)
    finally:
        appenders.close()
    # Committed but killed before its print: in the file, so emitted all the same.
    assert set(held.items()) >= set(returned.items())
    emitted = list(held.values())
    # The appenders make thousands of events a second, far past any real node and past
    # the hub's per-node flood limit, which is not what this scenario is about: off here.
    no_limit = IngestSettings(node_max_per_minute=0)
    with running_hub(mqtt_settings, influx, f"hub-{unique}", tmp_path / "hub", ingest=no_limit):
        config = write_node_config(
            tmp_path, unique, mqtt_settings, ward=unique, rate=5000, burst=500, link=QUICK_LINK
        )
        node = NodeProcess(config, 0)
        try:
            wait_for(lambda: outbox_depth(path) == 0, timeout_s=120, what="outbox drained")
        finally:
            assert node.stop() == 0
        emitted += [e.id for e in node.emitted()]  # its own health report
        wait_for(
            lambda: set(stored_event_ids(influx, nodes=[node_id])) >= set(emitted),
            timeout_s=60,
            what="every committed event stored",
        )
    ledger.record(
        account(
            f"node power loss mid-write ({kills} kills)",
            emitted,
            stored_event_ids(influx, nodes=[node_id]),
            kills=kills,
            appends_returned=len(returned),
            committed_unprinted=len(held) - len(returned),
        )
    )
