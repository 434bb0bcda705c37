"""The local stack starts real services, uses configured ones instead, and leaves nothing."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from checkpoint.errors import StackError
from checkpoint.localstack import LocalStack
from checkpoint.localstack.process import port_answers
from hub.influx.v1 import InfluxV1


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_starts_real_services_and_stops_them(tmp_path: Path) -> None:
    with LocalStack(tmp_path) as stack:
        assert stack.mosquitto is not None
        assert stack.influxdb is not None
        pids = [stack.mosquitto.process.pid, stack.influxdb.process.pid]
        assert port_answers(stack.mqtt_port)
        client = InfluxV1(stack.influx_url, "probe")
        assert client.ping()
        client.close()
    assert not any(_pid_alive(p) for p in pids if p is not None)
    assert not port_answers(stack.mqtt_port)


def test_configured_addresses_are_used_instead(stack: LocalStack, tmp_path: Path) -> None:
    mqtt = f"mqtt://{stack.mqtt_host}:{stack.mqtt_port}"
    with LocalStack(tmp_path, mqtt_url=mqtt, influx_url=stack.influx_url) as other:
        assert other.mosquitto is None
        assert other.influxdb is None
        assert (other.mqtt_port, other.influx_url) == (stack.mqtt_port, stack.influx_url)
    assert port_answers(stack.mqtt_port)  # not ours to stop


def test_configured_address_that_does_not_answer_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    with pytest.raises(StackError, match="does not answer"):
        LocalStack(tmp_path, mqtt_url=f"mqtt://127.0.0.1:{dead}").start()
