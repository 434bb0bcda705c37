"""The hub's /metrics endpoint shows its own counters, and only its own."""

from __future__ import annotations

import httpx

from hub.metrics import HubMetrics
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher, event_message, reading
from tests.hubproc import metric


def test_metrics_endpoint_shows_the_counters(
    hub: HubService, raw_publisher: RawPublisher, unique: str
) -> None:
    node = f"{unique}-cp01-n1"
    topic, _ = event_message(reading(node, 0))
    raw_publisher.publish([*(event_message(reading(node, i)) for i in range(10)), (topic, b"?")])
    assert hub.ingest is not None
    wait_for(lambda: hub.ingest and hub.ingest.stats["stored"] == 10, what="stored")
    hub.metrics.set_open_alerts_source(lambda: 3)  # what the alerts part wires in

    url = f"http://127.0.0.1:{hub.metrics_port}/metrics"
    text = wait_for(
        lambda: (
            (t := httpx.get(url, timeout=5).text)
            and metric(t, "checkpoint_hub_pending_messages") == 0
            and t
        ),
        what="the backlog drained",
    )
    # Other tests on the shared broker leave retained node statuses, which a new hub
    # receives too: everything received is ours (11) plus those statuses.
    statuses = metric(text, "checkpoint_hub_statuses_total")
    assert metric(text, "checkpoint_hub_messages_received_total") == 11 + statuses
    assert metric(text, "checkpoint_hub_events_stored_total") == 10
    assert metric(text, 'checkpoint_hub_messages_rejected_total{reason="not_json"}') == 1
    assert metric(text, "checkpoint_hub_batch_seconds_count") >= 1
    assert metric(text, "checkpoint_hub_open_alerts") == 3
    assert metric(text, "checkpoint_hub_connected") == 1


def test_each_hub_has_its_own_registry() -> None:
    a, b = HubMetrics(), HubMetrics()
    a.received.inc(5)
    assert metric(a.render().decode(), "checkpoint_hub_messages_received_total") == 5
    assert metric(b.render().decode(), "checkpoint_hub_messages_received_total") == 0
