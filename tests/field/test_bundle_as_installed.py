"""A provisioned ward as installed: Mosquitto runs the bundle's own broker config, the hub
its own hub.yaml (as a process, `checkpoint hub run`), a node one of its node configs
(the real node runtime on emulated hardware), and the command centre listens with a stock
`mosquitto_sub` and the bundle's command-centre files. Only paths and ports differ from
what provisioning wrote (tests/field/installed.py).

A fever at the checkpoint: its passage is stored in InfluxDB and its alert reaches the
command centre."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from checkpoint.contract import topics
from checkpoint.contract.models import Decision
from checkpoint.contract.node.config import NodeConfig
from checkpoint.localstack import LocalStack
from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.localstack.process import free_port
from edge.events import Emitter
from edge.node import Node
from edge.service import EdgeService
from edge.sim.node import SimNode
from greenzone.provision.bundle import Bundle, provision
from hub.influx.v1 import InfluxV1
from tests.field import installed
from tests.field.conftest import small_ward
from tests.helpers import wait_for
from tests.hubproc import HubProcess

NODE = "testward-cp01-n1"
WARD = "testward"


@pytest.fixture
def ward(tmp_path: Path) -> Bundle:
    return provision(small_ward(), tmp_path / "bundle")


@pytest.fixture
def broker(ward: Bundle, tmp_path: Path) -> Iterator[Mosquitto]:
    port = free_port()
    running = Mosquitto(
        tmp_path / "broker", port=port, extra_config=installed.broker_conf(ward, port)
    )
    running.start()
    yield running
    running.stop()


@pytest.fixture
def hub(
    ward: Bundle, broker: Mosquitto, stack: LocalStack, influx: InfluxV1, tmp_path: Path
) -> Iterator[HubProcess]:
    config = installed.hub_config(ward, broker.port, stack.influx_url, tmp_path / "hub-data")
    config["influx"]["database"] = influx.database  # this test's own database
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(config))
    process = HubProcess(path, config["metrics"]["port"], tmp_path / "hub.log")
    process.start()
    yield process
    process.close()


class InstalledNode:
    """The node runtime (EdgeService) with the bundle's config, on emulated hardware."""

    def __init__(self, config: NodeConfig) -> None:
        self.sim: SimNode | None = None
        self.service = EdgeService(config, node_factory=self._build)
        self.thread = threading.Thread(target=self.service.run, daemon=True)

    def _build(self, config: NodeConfig, emitter: Emitter) -> Node:
        self.sim = SimNode(config, emitter)
        return self.sim.node

    def __enter__(self) -> SimNode:
        self.thread.start()
        wait_for(
            lambda: self.sim is not None and self.service.link.connected.is_set(),
            timeout_s=30,
            what="the node up and connected",
        )
        assert self.sim is not None
        return self.sim

    def __exit__(self, *_exc: object) -> None:
        self.service.request_stop()
        self.thread.join(30)


@pytest.mark.skipif(shutil.which("mosquitto_sub") is None, reason="needs mosquitto-clients")
def test_a_fever_is_stored_and_reaches_the_command_centre(
    ward: Bundle, broker: Mosquitto, hub: HubProcess, influx: InfluxV1, tmp_path: Path
) -> None:
    cc = ward.command_centre_dir
    # What provisioning.md tells the command centre to run, on the test's port; -d prints
    # the SUBACK (line-buffered by stdbuf), so the fever comes once the subscription stands.
    listener = subprocess.Popen(
        [
            *("stdbuf", "-oL", "mosquitto_sub", "-d", "-h", "127.0.0.1", "-p", str(broker.port)),
            *("--cafile", str(cc / "ward-ca.pem")),
            *("--cert", str(cc / "command-centre.pem"), "--key", str(cc / "command-centre.key")),
            *("-t", topics.alert_topic(WARD), "-q", "1", "-W", "90"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert listener.stdout is not None
    threading.Thread(target=lambda: [lines.put(x) for x in listener.stdout], daemon=True).start()
    config = NodeConfig.model_validate(installed.node_config(ward, NODE, broker.port, tmp_path))
    try:
        while "SUBACK" not in lines.get(timeout=30):
            pass
        with InstalledNode(config) as node:
            passage = node.person_arrives(39.2, node.resident_pass())
        # The ward's alerts in order; a fresh bundle's hub has no pass key yet, so the node
        # may also report stale trust lists (trust_stale) before or after the fever.
        received = lines.get(timeout=90)
        while not (received.startswith("{") and json.loads(received)["kind"] == "fever"):
            received = lines.get(timeout=90)
    finally:
        listener.kill()
    assert passage is not None
    assert passage.decision == Decision.REFUSE
    rows = wait_for(
        lambda: influx.query('SELECT "event_id" FROM "passage" WHERE "node" = $n', {"n": NODE}),
        timeout_s=30,
        what="the passage in InfluxDB",
    )
    assert [r["event_id"] for r in rows] == [passage.id]
    alert = json.loads(received)
    assert (alert["kind"], alert["checkpoint_id"], alert["ward_id"]) == (
        "fever",
        "testward-cp01",
        WARD,
    )
    # The ingest lanes stored, the alert session published: each under its own certificate.
    assert hub.value("checkpoint_hub_connected") == 1
