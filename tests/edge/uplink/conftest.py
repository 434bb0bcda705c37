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


def _locked(tmp_path: Path, acl: str = "") -> Mosquitto:
    workdir = tmp_path / "locked"
    workdir.mkdir()
    passwords = workdir / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), "node1", "right"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    extra = f"listener {port} 127.0.0.1\npassword_file {passwords}\nallow_anonymous false"
    if acl:
        (workdir / "acl").write_text(acl)
        extra += f"\nacl_file {workdir / 'acl'}"
    return Mosquitto(workdir, port=port, extra_config=extra)


@pytest.fixture
def locked_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto that accepts only user ``node1`` with password ``right``."""
    broker = _locked(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def acl_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """Like ``locked_broker``, with an ACL that lets node1 publish its status and passage
    events only (as a broker whose ACL lists event types would, before a new type)."""
    broker = _locked(
        tmp_path,
        "user node1\n"
        "topic write checkpoint/v1/up/node1/status\n"
        "topic write checkpoint/v1/up/node1/events/passage\n"
        "topic read checkpoint/v1/down/node1/#\n",
    )
    broker.start()
    yield broker
    broker.stop()
