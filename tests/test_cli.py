"""The ``checkpoint`` command as a person meets it: help, one-line errors, the demo."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from checkpoint.localstack import LocalStack
from tests.helpers import CHECKPOINT, live_processes_mentioning, run_checkpoint

BIN = CHECKPOINT
run = run_checkpoint


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["edge"],
        ["edge", "run"],
        ["hub"],
        ["hub", "run"],
        ["sim"],
        ["demo"],
        ["validate-config"],
        ["stack"],
    ],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = run(*args, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_errors_are_one_line_with_exit_code_1(tmp_path: Path) -> None:
    result = run("hub", "run", "--config", str(tmp_path / "missing.yaml"))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: ")
    assert "missing.yaml" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["hub"], "Usage: checkpoint hub"),
        (["demo", "--nodes", "0"], "'--nodes'"),
        (["provision"], "'ward_file'"),
        (["passes", "revoke", "--ledger", "x.json"], "'pass_id'"),
        (["validate-config", "--kind", "gateway", "x.yaml"], "'--kind'"),
        (["edge", "run", "--confg", "x.yaml"], "--confg"),
    ],
)
def test_usage_errors_exit_2_naming_the_option(args: list[str], names: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stderr
    out = result.stdout + result.stderr
    assert "Usage: checkpoint" in out
    assert names in out
    assert "unexpected" not in out


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"checkpoint {version('greenzone-checkpoint')}"


def test_debug_flag_shows_the_traceback(tmp_path: Path) -> None:
    result = run("--debug", "hub", "run", "--config", str(tmp_path / "missing.yaml"))
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_validate_config_names_file_and_key(tmp_path: Path) -> None:
    good = tmp_path / "node.yaml"
    good.write_text("kind: node\nnode_id: cp01-n1\ncheckpoint_id: cp01\nward_id: phucla\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "kind: node\nnode_id: cp01-n1\ncheckpoint_id: cp01\nward_id: phucla\n"
        "thermometer:\n  fever_treshold_c: 37.5\npins:\n  buzzer: 17\n"
    )
    hub = tmp_path / "hub.yaml"
    hub.write_text("kind: hub\ninflux:\n  api: v9\n")
    result = run("validate-config", str(good), str(bad), str(hub))
    assert result.returncode == 1
    assert f"{good}: ok (NodeConfig)" in result.stdout
    assert f"{bad}:6:3: thermometer.fever_treshold_c: unknown key" in result.stderr
    assert "GPIO 17 is used for both presence and buzzer" in result.stderr
    assert f"{hub}:3:3: influx.api:" in result.stderr


def test_validate_config_accepts_good_files(tmp_path: Path) -> None:
    good = tmp_path / "hub.yaml"
    good.write_text("kind: hub\nmqtt:\n  host: hub.local\n  port: 8883\n")
    assert run("validate-config", str(good)).returncode == 0


def test_demo_prints_readings_and_leaves_nothing_behind(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    result = run("demo", "--nodes", "2", "--duration", "3", "--rate", "5", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("stored reading") >= 3
    assert "Stored in InfluxDB" in result.stdout
    assert "hub API http://127.0.0.1:" in result.stdout
    assert re.search(r"console http://127\.0\.0\.1:\d+/console +sign in with cpk_", result.stdout)
    # The command centre hears the nodes going offline when the ward stops.
    assert "ALERT new" in result.stdout
    assert "node_offline" in result.stdout
    assert live_processes_mentioning(str(tmp_path)) == []


def test_demo_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [BIN, "demo", "--nodes", "2", "--rate", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True)
    reader.start()
    try:
        # Ctrl-C once the ward runs (the hub may take seconds to start on a loaded machine).
        deadline = time.monotonic() + 90
        while not any("stored reading" in line for line in lines):
            assert time.monotonic() < deadline, "the demo stored nothing"
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode in (0, 130)
    assert any("Stored in InfluxDB" in line for line in lines)  # it stopped, then summed up
    assert live_processes_mentioning(str(tmp_path)) == []


def test_stack_is_isolated_from_a_system_broker(stack: LocalStack) -> None:
    # Some machines run a Mosquitto on 1883; ours must be elsewhere.
    assert stack.mqtt_port != 1883
