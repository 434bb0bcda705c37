"""The small parts of ingest on their own: classification, the rate-limited reject log,
the recent-id memory."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from checkpoint.contract import NodeStatus, Reading, encode, topics
from hub.config import IngestSettings
from hub.ingest.classify import Rejected, classify
from hub.ingest.ratelog import RateLimitedLog
from hub.ingest.recent import RecentIds
from tests.hub.conftest import event_message, reading

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SETTINGS = IngestSettings(max_future_s=60, max_past_s=3600)


def test_a_good_event_and_a_status_are_accepted() -> None:
    topic, payload = event_message(reading("n-cp01-n1", 1, ts=NOW))
    assert isinstance(classify(topic, payload, NOW, SETTINGS), Reading)
    status = NodeStatus(node_id="n-cp01-n1", state="offline", ts=NOW - timedelta(days=90))
    # A retained "offline" may be months old: status times are not bounded.
    assert isinstance(
        classify(topics.status_topic("n-cp01-n1"), encode(status), NOW, SETTINGS), NodeStatus
    )


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(seconds=59), True),
        (timedelta(seconds=61), False),
        (-timedelta(seconds=3599), True),
        (-timedelta(seconds=3601), False),
    ],
)
def test_timestamp_bounds(offset: timedelta, accepted: bool) -> None:
    topic, payload = event_message(reading("n-cp01-n1", 1, ts=NOW + offset))
    result = classify(topic, payload, NOW, SETTINGS)
    if accepted:
        assert isinstance(result, Reading)
    else:
        assert isinstance(result, Rejected)
        assert result.reason == "bad_timestamp"


def test_a_status_payload_under_a_status_topic_of_another_node_is_rejected() -> None:
    status = NodeStatus(node_id="n-cp01-n1", state="online", ts=NOW)
    result = classify(topics.status_topic("n-cp02-n1"), encode(status), NOW, SETTINGS)
    assert isinstance(result, Rejected)
    assert result.reason == "node_mismatch"


def test_reject_log_is_limited_per_reason_and_reports_what_it_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = [0.0]
    log = RateLimitedLog(logging.getLogger("t"), per_window=3, window_s=60, clock=lambda: clock[0])
    with caplog.at_level(logging.WARNING):
        logged = [log.report("not_json", "bad %d", i) for i in range(10)]
        assert log.report("bad_schema", "other reason")  # its own budget
        clock[0] = 61
        assert log.report("not_json", "after the window")
    assert logged == [True] * 3 + [False] * 7
    assert "7 more 'not_json' not logged" in caplog.text


def test_recent_ids_are_bounded() -> None:
    recent = RecentIds(3)
    for i in range(5):
        recent.add(f"id{i}", i)
    assert len(recent) == 3
    assert recent.get("id0") is None
    assert recent.get("id4") == 4
