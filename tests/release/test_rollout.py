"""Fleet updates end to end: real node processes (the runtime on emulated hardware), the
real broker, the real hub; the node's restart is the supervisor in tests/release/fleet.py.

Release B goes to a canary, then its checkpoint, then the ward, while the nodes keep
deciding; every event stored exactly once. Release C fails its health gate on the canary:
rolled back there by itself, the rollout pauses, an alert is raised."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from checkpoint.release.manifest import MANIFEST_FILE
from checkpoint.settings.mqtt import MqttSettings
from greenzone.release.build import build_release, load_release_key
from hub.api.keys import KeyStore
from hub.api.roles import Role
from hub.config import HubConfig
from hub.influx.schema import MEASUREMENTS
from hub.influx.v1 import InfluxV1
from hub.state import open_store
from tests.helpers import wait_for
from tests.hubproc import HubProcess
from tests.release.fleet import NodeProcess, release_archive
from tests.release.wheels import restamp

A = "0.1.0"


def _broken_thermometer(source: bytes) -> bytes:
    # Release C: its thermometer driver fails every measurement.
    marker = b"    def measure(self) -> Measurement:\n"
    assert marker in source
    return source.replace(
        marker, marker + b'        raise OSError("thermometer does not answer")\n'
    )


class Fleet:
    def __init__(
        self, hub: HubProcess, token: str, key: tuple[Path, str], work: Path, ward: str
    ) -> None:
        # A ward (so node ids) of its own per test: the broker keeps other tests' retained
        # desired versions for their nodes.
        self.ward = ward
        self.hub = hub
        self.api = httpx.Client(
            base_url=hub.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.key = key
        self.work = work

    def upload(self, wheel: Path) -> str:
        release = build_release(wheel, self.work / "releases", load_release_key(self.key[0]))
        answer = self.api.post(
            "/releases",
            content=release_archive(release),
            headers={"Content-Type": "application/gzip"},
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["version"])

    def rollout(self, version: str, canary: str, ward: str | None = None) -> str:
        answer = self.api.post(
            "/rollouts",
            json={"version": version, "ward_id": ward or self.ward, "canary": canary},
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def rollout_state(self, rollout_id: str) -> dict[str, Any]:
        answer = self.api.get(f"/rollouts/{rollout_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def versions(self, ward: str | None = None) -> dict[str, list[str]]:
        answer = self.api.get("/fleet/versions", params={"ward": ward or self.ward})
        assert answer.status_code == 200, answer.text
        return dict(answer.json().get(ward or self.ward, {}))


@pytest.fixture
def fleet(
    hub_process: HubProcess, tmp_path: Path, release_key: tuple[Path, str], unique: str
) -> Fleet:
    settings = yaml.safe_load(hub_process.config.read_text())
    settings["releases"] = {"public_key": release_key[1], "step_s": 0.5}
    hub_process.config.write_text(yaml.safe_dump(settings))
    cfg = HubConfig.model_validate(settings)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    _, token = KeyStore(open_store(cfg.resolved_state_url())).issue(Role.TECHNICIAN, "fleet")
    hub_process.start()
    return Fleet(hub_process, token, release_key, tmp_path, f"fleet{unique}")


def _nodes(
    fleet: Fleet,
    mqtt: MqttSettings,
    places: list[tuple[int, int]],
    ward: str | None = None,
    **kw: Any,
) -> list[NodeProcess]:
    nodes = [
        NodeProcess(
            fleet.work / "nodes",
            ward or fleet.ward,
            index,
            mqtt,
            node_number=number,
            hub_url=fleet.hub.api_url,
            release_key=fleet.key[1],
            **kw,
        )
        for index, number in places
    ]
    for node in nodes:
        node.start()
    return nodes


def _stored_seqs(influx: InfluxV1, node_id: str) -> list[int]:
    sources = ", ".join(f'"{m}"' for m in MEASUREMENTS if m != "alert")
    rows = influx.query(f'SELECT "seq" FROM {sources} WHERE "node" = $node', {"node": node_id})
    return sorted(int(r["seq"]) for r in rows)


def test_rollout_reaches_canary_then_the_rest_and_loses_no_event(
    fleet: Fleet,
    mqtt_settings: MqttSettings,
    influx: InfluxV1,
    project_wheel: Path,
    tmp_path: Path,
) -> None:
    nodes = _nodes(fleet, mqtt_settings, [(1, 1), (1, 2), (2, 1)])
    canary = nodes[0]
    try:
        wait_for(
            lambda: sorted(fleet.versions().get(A, [])) == sorted(n.node_id for n in nodes),
            timeout_s=60,
            what="all nodes report version A",
        )
        b = fleet.upload(restamp(project_wheel, "0.1.1", tmp_path / "b"))
        rollout = fleet.rollout(b, canary.node_id)
        # The canary first: it is on B while the others still run A.
        wait_for(
            lambda: fleet.versions().get(b) == [canary.node_id], timeout_s=60, what="canary on B"
        )
        on_b = datetime.now(UTC)
        assert sorted(fleet.versions()[A]) == sorted(n.node_id for n in nodes[1:])
        wait_for(
            lambda: fleet.rollout_state(rollout)["state"] == "done",
            timeout_s=150,
            what="rollout done",
        )
        assert sorted(fleet.versions()[b]) == sorted(n.node_id for n in nodes)
        assert fleet.rollout_state(rollout)["nodes"][0] == canary.node_id
        # The canary decided on B (passages after it switched), the others meanwhile on A.
        decided_on_b = influx.query(
            'SELECT count("seq") AS n FROM "passage" WHERE "node" = $node AND time > $t',
            {"node": canary.node_id, "t": on_b.isoformat()},
        )
        assert decided_on_b
        assert decided_on_b[0]["n"] > 0
        for node in nodes:
            assert node.exits == [75], node.log()  # A exited once to restart into B
            assert node.layout.current_target() == node.layout.venv_dir(b)
    finally:
        for node in nodes:
            node.stop()
    # Every event any version stored in the shared outbox reached the hub exactly once.
    for node in nodes:

        def complete(node: NodeProcess = node) -> bool:
            seqs = _stored_seqs(influx, node.node_id)
            return bool(seqs) and seqs == list(range(seqs[0], seqs[0] + len(seqs)))

        wait_for(complete, timeout_s=30, what=f"{node.node_id}: every event stored")
        seqs = _stored_seqs(influx, node.node_id)
        assert len(seqs) == len(set(seqs))
        assert seqs[0] == 0
    # And none was sent twice: the hub never saw an event id again.
    assert fleet.hub.value("checkpoint_hub_duplicates_total") == 0


def test_failing_health_gate_rolls_back_pauses_and_alerts(
    fleet: Fleet,
    mqtt_settings: MqttSettings,
    project_wheel: Path,
    tmp_path: Path,
) -> None:
    nodes = _nodes(fleet, mqtt_settings, [(1, 1), (2, 1)], update={"gate_timeout_s": 8.0})
    canary, other = nodes
    try:
        wait_for(lambda: len(fleet.versions().get(A, [])) == 2, timeout_s=60, what="nodes on A")
        c = fleet.upload(
            restamp(
                project_wheel,
                "0.1.2",
                tmp_path / "c",
                {"edge/thermometry.py": _broken_thermometer},
            )
        )
        rollout = fleet.rollout(c, canary.node_id)
        state = wait_for(
            lambda: (s := fleet.rollout_state(rollout))["state"] == "paused" and s,
            timeout_s=120,
            what="rollout paused",
        )
        assert canary.node_id in state["reason"]
        assert "rolled_back" in state["reason"]
        assert "thermometer does not answer" in state["reason"]
        assert state["nodes"] == [canary.node_id]  # the rest were never asked
        # The canary runs A again, by itself: C switched back and exited for A to start.
        wait_for(lambda: canary.exits == [75, 75], timeout_s=30, what="C exited back to A")
        assert canary.layout.current_target() == Path(sys.prefix)  # A's environment
        assert canary.layout.venv_dir(c).is_dir()  # C stays installed beside it, unused
        wait_for(
            lambda: (
                sorted(fleet.versions().get(A, [])) == sorted(n.node_id for n in nodes)
                and c not in fleet.versions()
            ),
            timeout_s=60,
            what="both on A",
        )
        alerts = wait_for(
            lambda: fleet.api.get(
                "/alerts", params={"ward": fleet.ward, "kind": "update_failed"}
            ).json()["items"],
            timeout_s=30,
            what="update_failed alert",
        )
        assert alerts[0]["node_id"] == canary.node_id
        assert alerts[0]["details"]["release"] == c
        assert other.exits == []
    finally:
        for node in nodes:
            node.stop()


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_tampered_releases_and_a_small_disk_are_refused_and_a_keeps_running(
    fleet: Fleet,
    mqtt_settings: MqttSettings,
    project_wheel: Path,
    tmp_path: Path,
) -> None:
    # The hub itself refuses an upload with one flipped byte.
    wheel = restamp(project_wheel, "0.1.3", tmp_path / "w")
    tampered = build_release(wheel, tmp_path / "t", load_release_key(fleet.key[0]))
    _flip(tampered / wheel.name, 2000)
    answer = fleet.api.post("/releases", content=release_archive(tampered))
    assert answer.status_code == 422
    assert "bad_hash" in answer.json()["detail"]
    # Releases spoiled on the way (here: on the hub's disk after upload) and a disk too
    # small: each canary refuses before anything switches, and says why.
    hub_releases = fleet.hub.config.parent / "data" / "releases"
    cases = {
        "bad_hash": (1, lambda r: _flip(hub_releases / r / wheel.name.replace("0.1.3", r), 3000)),
        "bad_signature": (2, lambda r: _flip(hub_releases / r / MANIFEST_FILE, 40)),
        "no_space": (3, lambda r: None),
    }
    nodes = {
        reason: _nodes(
            fleet,
            mqtt_settings,
            [(index, 1)],
            ward=f"{fleet.ward}x{index}",
            **({"update": {"min_free_bytes": 10**15}} if reason == "no_space" else {}),
        )[0]
        for reason, (index, _) in cases.items()
    }
    try:
        for number, (reason, (index, spoil)) in enumerate(cases.items()):
            node = nodes[reason]
            ward = f"{fleet.ward}x{index}"
            wait_for(lambda w=ward: fleet.versions(w).get(A), timeout_s=60, what=f"{ward} on A")
            version = fleet.upload(restamp(project_wheel, f"0.2.{number}", tmp_path / reason))
            spoil(version)
            rollout = fleet.rollout(version, node.node_id, ward)
            state = wait_for(
                lambda r=rollout: (s := fleet.rollout_state(r))["state"] == "paused" and s,
                timeout_s=60,
                what=f"{reason}: rollout paused",
            )
            assert f"refused {version} ({reason}" in state["reason"]
            assert node.layout.current_target() == Path(sys.prefix)  # A, untouched
            assert not node.layout.venv_dir(version).exists()
            if reason == "no_space":  # checked before the download: nothing was fetched
                assert not node.layout.files_dir(version).exists()
        for node in nodes.values():
            assert node.exits == []  # A never stopped
            assert node.proc is not None
            assert node.proc.poll() is None
    finally:
        for node in nodes.values():
            node.stop()
