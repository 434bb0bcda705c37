"""sd_notify against a real unix datagram socket, as systemd listens on one."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint import systemd


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(2)
    yield sock, path
    sock.close()


def test_states_arrive_as_datagrams(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    env = {"NOTIFY_SOCKET": path}
    assert systemd.notify("READY=1", env)
    assert systemd.notify("WATCHDOG=1", env)
    assert sock.recv(256) == b"READY=1"
    assert sock.recv(256) == b"WATCHDOG=1"


def test_abstract_socket_address() -> None:
    name = f"checkpoint-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        assert systemd.notify("STOPPING=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(256) == b"STOPPING=1"


def test_outside_systemd_nothing_is_sent() -> None:
    assert systemd.notify("READY=1", {}) is False


def test_a_vanished_socket_is_not_fatal(tmp_path: Path) -> None:
    assert systemd.notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False


def test_watchdog_interval_is_half_of_watchdog_usec() -> None:
    assert systemd.watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert systemd.watchdog_interval_s({}) is None
    assert systemd.watchdog_interval_s({"WATCHDOG_USEC": "0"}) is None
    other = str(os.getpid() + 1)
    assert systemd.watchdog_interval_s({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": other}) is None
    mine = str(os.getpid())
    assert systemd.watchdog_interval_s({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": mine}) == 0.5
