"""Each lane's MQTT session runs in a child process (hub/ingest/receiver.py): one that dies
is started again and nothing is lost; when the hub dies, its session processes leave."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint.localstack.process import children
from checkpoint.settings.mqtt import MqttSettings
from hub.config import HubConfig
from hub.influx.v1 import InfluxV1
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher, event_message, made_at, reading
from tests.hubproc import HubProcess


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_session_process_killed_is_started_again_and_nothing_is_lost(
    hub_config: HubConfig, influx: InfluxV1, raw_publisher: RawPublisher, unique: str
) -> None:
    node = f"{unique}-cp01-n1"
    events = [reading(node, i, ts=made_at(i)) for i in range(3000)]
    hub = HubService(hub_config)
    hub.start()
    try:
        assert hub.ingest is not None
        bulk = hub.ingest.lanes[0]
        first = bulk.session.pid
        assert first is not None
        assert alive(first)
        raw_publisher.publish([event_message(e) for e in events[:1500]])
        wait_for(lambda: bulk.stats["received"] > 0, timeout_s=30, what="readings arriving")
        os.kill(first, signal.SIGKILL)  # mid-stream: some received, none of it acked yet
        raw_publisher.publish([event_message(e) for e in events[1500:]])
        wait_for(
            lambda: bulk.session.pid not in (None, first) and bulk.connected,
            timeout_s=30,
            what="a new session process, connected",
        )
        assert hub.healthy()
        wait_for(
            lambda: len(influx.query('SELECT "event_id" FROM "reading"')) >= len(events),
            timeout_s=60,
            what="every reading stored",
        )
    finally:
        hub.stop()
    stored = [r["event_id"] for r in influx.query('SELECT "event_id" FROM "reading"')]
    assert sorted(stored) == sorted(e.id for e in events)  # each once, none lost


@pytest.fixture
def hub_and_sessions(
    tmp_path: Path, mqtt_settings: MqttSettings, influx: InfluxV1, unique: str
) -> Iterator[tuple[HubProcess, list[int]]]:
    """``checkpoint hub run`` started, and the pids of its two session processes."""
    hub = HubProcess.configured(
        tmp_path,
        client_id=f"hub-{unique}",
        mqtt=mqtt_settings,
        influx=influx,
    )
    try:
        hub.start()
        assert hub.proc is not None
        sessions = children(hub.proc.pid)
        assert len(sessions) == 2  # the bulk and the priority lane
        yield hub, sessions
    finally:
        hub.close()


def test_the_session_processes_leave_when_the_hub_is_killed(
    hub_and_sessions: tuple[HubProcess, list[int]],
) -> None:
    hub, sessions = hub_and_sessions
    assert hub.signal(signal.SIGKILL) == -signal.SIGKILL
    # They must not linger: paho would reconnect them and take the session from the
    # next hub started with the same client id.
    wait_for(
        lambda: not any(alive(pid) for pid in sessions),
        timeout_s=10,
        what="the session processes gone",
    )


def test_the_session_processes_ignore_sigterm_and_leave_with_a_clean_stop(
    hub_and_sessions: tuple[HubProcess, list[int]],
) -> None:
    """systemd and Ctrl-C signal the whole group; the hub still acknowledges through its
    session processes, so they wait for the hub's word."""
    hub, sessions = hub_and_sessions
    for pid in sessions:
        os.kill(pid, signal.SIGTERM)
    time.sleep(0.5)
    assert all(alive(pid) for pid in sessions)
    assert hub.value("checkpoint_hub_connected") == 1
    assert hub.signal(signal.SIGTERM) == 0
    assert not any(alive(pid) for pid in sessions)
