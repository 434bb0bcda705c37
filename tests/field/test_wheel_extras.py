"""The wheel, installed with one extra alone into a fresh venv, runs its side for real.

The wheel is built once; ``[edge]`` and ``[hub]`` are each installed into a venv of their
own, side by side (pip's cache keeps this short after the first time). Each venv's ``checkpoint``
answers ``--version`` and its command's ``--help``, ships the field files, and runs its
side briefly against the local stack: the hub answers /healthz, the node (GPIO through
gpiozero's mock pin factory, no I2C bus, no camera) reports its status and health on
the broker. Both stop cleanly on SIGTERM, as systemd stops them.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from checkpoint.contract import topics
from checkpoint.localstack import LocalStack
from checkpoint.localstack.process import free_port
from checkpoint.settings.mqtt import MqttSettings
from hub.influx.v1 import InfluxV1
from tests.helpers import wait_for

REPO = Path(__file__).resolve().parents[2]
EXTRAS = ("edge", "hub")
NOT_SOURCE = (".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis")


def _run(argv: list[str], timeout_s: float = 600, **kwargs: object) -> str:
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout_s, check=False, **kwargs
    )
    assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
    return result.stdout


def _venv(wheel: Path, extra: str, where: Path) -> Path:
    # A venv without pip of its own, filled by this pip (--python): the same install,
    # without seconds of ensurepip per venv; no byte-compiling, for the same reason.
    _run([sys.executable, "-m", "venv", "--without-pip", str(where)])
    python = str(where / "bin" / "python")
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check"]
    _run([*pip, "install", "-q", "--no-compile", f"{wheel}[{extra}]"])
    return where / "bin" / "checkpoint"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """extra -> the ``checkpoint`` command of a venv that has only that extra."""
    # From a copy: setuptools builds in the source tree, and a build/ left there by an
    # earlier build would put modules deleted since into the wheel.
    source = tmp_path_factory.mktemp("source") / "src"
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    wheels = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)])
    [wheel] = wheels.glob("*.whl")
    venvs = tmp_path_factory.mktemp("venvs")
    with ThreadPoolExecutor(len(EXTRAS)) as pool:
        made = {e: pool.submit(_venv, wheel, e, venvs / e) for e in EXTRAS}
        return {extra: future.result() for extra, future in made.items()}


@pytest.mark.parametrize("extra", EXTRAS)
def test_each_extra_alone_answers_version_help_and_ships_the_field_files(
    installed: dict[str, Path], extra: str, tmp_path: Path
) -> None:
    command = str(installed[extra])
    assert _run([command, "--version"]).strip() == "checkpoint 0.1.0"
    assert "--config" in _run([command, extra, "run", "--help"])
    _run([command, "install-files", "--dest", str(tmp_path)])
    unit = "checkpoint-node" if extra == "edge" else "checkpoint-hub"
    text = (tmp_path / "firmware_config" / "systemd" / f"{unit}.service").read_text()
    docs = next(line for line in text.splitlines() if line.startswith("Documentation="))
    assert Path(docs.removeprefix("Documentation=file://")).is_file()
    assert f"ExecStart={command} " in text


def _stop(proc: subprocess.Popen[bytes], log: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(30)
    finally:
        proc.kill()
    assert code == 0, log.read_text()[-3000:]


@pytest.fixture
def run_in_venv(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_hub_extra_runs_the_hub_on_the_local_stack(
    installed: dict[str, Path],
    stack: LocalStack,
    influx: InfluxV1,
    unique: str,
    tmp_path: Path,
    run_in_venv: list[subprocess.Popen[bytes]],
) -> None:
    api = free_port()
    config = {
        "client_id": f"hub-{unique}",
        "data_dir": str(tmp_path / "data"),
        "mqtt": {"host": stack.mqtt_host, "port": stack.mqtt_port},
        "influx": {"url": stack.influx_url, "database": influx.database},
        "metrics": {"port": free_port()},
        "api": {"port": api},
    }
    (tmp_path / "hub.yaml").write_text(yaml.safe_dump(config))
    log = tmp_path / "hub.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(installed["hub"]), "hub", "run", "--config", str(tmp_path / "hub.yaml")],
            stdout=out,
            stderr=out,
        )
    run_in_venv.append(proc)

    def healthy() -> bool:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            return httpx.get(f"http://127.0.0.1:{api}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, timeout_s=90, interval_s=0.5, what="the venv's hub answering /healthz")
    _stop(proc, log)


class Watcher:
    """Plain MQTT on the local stack: the node's retained status and its health events."""

    def __init__(self, stack: LocalStack, node_id: str) -> None:
        self.got: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.client = MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port).new_client(
            f"watch-{node_id}"
        )
        self.client.on_message = lambda _c, _u, m: self.got.put((m.topic, json.loads(m.payload)))
        self.client.connect(stack.mqtt_host, stack.mqtt_port)
        self.client.subscribe(
            [(topics.status_topic(node_id), 1), (topics.event_topic(node_id, "health"), 1)]
        )
        self.client.loop_start()

    def until(self, topic: str, test: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while True:
            got_topic, payload = self.got.get(timeout=90)
            if got_topic == topic and test(payload):
                return payload

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_the_edge_extra_runs_a_node_on_the_local_stack(
    installed: dict[str, Path],
    stack: LocalStack,
    unique: str,
    tmp_path: Path,
    run_in_venv: list[subprocess.Popen[bytes]],
) -> None:
    node_id = f"{unique}-cp01-n1"
    config = {
        "node_id": node_id,
        "checkpoint_id": f"{unique}-cp01",
        "ward_id": unique,
        "mqtt": {"host": stack.mqtt_host, "port": stack.mqtt_port},
        "camera": {"enabled": False},
        "thermometer": {"i2c_bus": 99},  # no such bus: the node runs, its thermometer faulty
        "health": {"interval_s": 1, "disk_path": str(tmp_path)},
        "uplink": {"outbox": {"path": str(tmp_path / "state" / "outbox.sqlite")}},
    }
    (tmp_path / "node.yaml").write_text(yaml.safe_dump(config))
    watcher = Watcher(stack, node_id)
    log = tmp_path / "node.log"
    try:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(installed["edge"]), "edge", "run", "--config", str(tmp_path / "node.yaml")],
                stdout=out,
                stderr=out,
                # gpiozero's own switch: the real node code on mock pins, off a Pi.
                env={**os.environ, "GPIOZERO_PIN_FACTORY": "mock"},
            )
        run_in_venv.append(proc)
        status = topics.status_topic(node_id)
        assert watcher.until(status, lambda p: p["state"] == "online")["node_id"] == node_id
        health = watcher.until(topics.event_topic(node_id, "health"), lambda p: True)
        assert health["node_id"] == node_id
        _stop(proc, log)
        watcher.until(status, lambda p: p["state"] == "offline")
    finally:
        watcher.close()
