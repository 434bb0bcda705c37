"""Fixtures for uplink tests: a broker of the test's own (to stop, restart, lock down)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.localstack import Mosquitto
from checkpoint.localstack.process import free_port


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto only this test uses, so that it may stop it and start it again (on the
    same port: it is fixed)."""
    broker = Mosquitto(tmp_path / "mosquitto", port=free_port())
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def locked_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto that accepts only user ``node1`` with password ``right``."""
    workdir = tmp_path / "locked"
    workdir.mkdir()
    passwords = workdir / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), "node1", "right"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    broker = Mosquitto(
        workdir,
        port=port,
        extra_config=(
            f"listener {port} 127.0.0.1\npassword_file {passwords}\nallow_anonymous false"
        ),
    )
    broker.start()
    yield broker
    broker.stop()
