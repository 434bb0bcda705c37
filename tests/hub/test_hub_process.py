"""``checkpoint hub run`` as a real process: killed with -9 mid-batch and restarted it
loses nothing; SIGTERM stops it cleanly with what it received stored."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from hub.influx.v1 import InfluxV1
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher, event_message, made_at, reading
from tests.hubproc import BIN, HubProcess, metric


def stored_ids(influx: InfluxV1) -> list[str]:
    return [r["event_id"] for r in influx.query('SELECT "event_id" FROM "reading"')]


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param((3000, 1), id="once"),
        pytest.param((20_000, 4), id="four-times", marks=pytest.mark.slow),
    ],
)
def test_hub_killed_mid_batch_and_restarted_loses_nothing(
    hub_process: HubProcess,
    influx: InfluxV1,
    raw_publisher: RawPublisher,
    unique: str,
    scenario: tuple[int, int],
) -> None:
    count, kills = scenario
    hub_process.start()
    events = [reading(f"{unique}-cp{i % 4:02d}-n1", i, ts=made_at(i)) for i in range(count)]
    raw_publisher.publish([event_message(e) for e in events])

    def mid_batch() -> bool:
        text = hub_process.metrics()
        received = metric(text, "checkpoint_hub_messages_received_total")
        stored = metric(text, "checkpoint_hub_events_stored_total")
        return received > stored and stored < len(events)

    for _ in range(kills):
        wait_for(mid_batch, timeout_s=30, interval_s=0.01, what="received, not yet stored")
        assert hub_process.signal(signal.SIGKILL) == -signal.SIGKILL
        assert len(stored_ids(influx)) < len(events)  # the kill did interrupt the stream
        hub_process.start()  # same client id: the broker redelivers what was not acked

    wait_for(lambda: len(stored_ids(influx)) >= len(events), timeout_s=60, what="all stored")
    ids = stored_ids(influx)
    assert sorted(ids) == sorted(e.id for e in events)  # each exactly once
    assert hub_process.signal(signal.SIGTERM) == 0


def test_sigterm_stops_the_hub_cleanly_with_everything_stored(
    hub_process: HubProcess, influx: InfluxV1, raw_publisher: RawPublisher, unique: str
) -> None:
    hub_process.start()
    events = [reading(f"{unique}-cp01-n1", i) for i in range(100)]
    raw_publisher.publish([event_message(e) for e in events])
    # Retained statuses other tests left on the shared broker arrive too: not ours.
    wait_for(
        lambda: (
            hub_process.value("checkpoint_hub_messages_received_total")
            - hub_process.value("checkpoint_hub_statuses_total")
            == 100
        )
    )
    assert hub_process.signal(signal.SIGTERM) == 0
    assert sorted(stored_ids(influx)) == sorted(e.id for e in events)


def test_hub_run_serves_the_api_with_keys_from_the_command_line(
    hub_process: HubProcess, tmp_path: Path
) -> None:
    created = subprocess.run(
        [
            BIN,
            "hub",
            "keys",
            "create",
            "--config",
            str(hub_process.config),
            "--role",
            "admin",
            "--label",
            "night shift",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    token = created.stdout.strip()
    hub_process.start()
    ready = wait_for(lambda: _get_json(f"{hub_process.api_url}/readyz"), what="the API")
    assert ready["ready"] is True
    assert ready["checks"] == {"broker": True, "influxdb": True, "state_store": True}
    assert ready["missing"] == [  # this hub has no pass signing key
        "a pass signing key (passes cannot be issued): create one with "
        "`checkpoint passes keygen --keys DATA_DIR/passes/keys`, no restart needed"
    ]
    keys = httpx.get(f"{hub_process.api_url}/keys", headers={"Authorization": f"Bearer {token}"})
    assert [k["label"] for k in keys.json()] == ["night shift"]
    assert httpx.get(f"{hub_process.api_url}/keys").status_code == 401
    assert hub_process.signal(signal.SIGTERM) == 0


def _get_json(url: str) -> object:
    """The JSON at ``url``, or None while the API is still starting (connection refused):
    the hub says it is connected on /metrics a moment before its API listens."""
    try:
        return httpx.get(url, timeout=2).json()
    except httpx.TransportError:
        return None
