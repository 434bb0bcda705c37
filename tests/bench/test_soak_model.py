"""The city soak's load: the rates docs/scale.md states, and payloads the hub takes as a
node's."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import pytest

from bench.soak.model import LoadModel, Node
from checkpoint.contract import Health, Passage, Reading
from hub.config import IngestSettings
from hub.ingest.classify import classify


def test_the_city_makes_1313_messages_a_second() -> None:
    model = LoadModel()
    assert round(model.msgs_per_s()) == 1313
    assert round(model.msgs_per_s(40), 1) == 2.0  # Phúc La ward
    assert round(model.msgs_per_s(470)) == 24  # Hoàng Mai district
    assert sum(model.per_checkpoint().values()) == pytest.approx(0.0505, abs=1e-4)


def test_checkpoints_spread_over_the_wards_and_districts_of_the_city() -> None:
    model = LoadModel()
    nodes = [Node(i, model, 0.0) for i in range(model.checkpoints)]
    assert len({n.node_id for n in nodes}) == 26_000
    per_ward = Counter(n.ward for n in nodes)
    assert len(per_ward) == 579
    assert set(per_ward.values()) <= {44, 45}
    assert len({n.ward[:6] for n in nodes}) == 30
    # the lag probe's district: about one in 30 of the city
    assert sum(n.probe for n in nodes) / len(nodes) == pytest.approx(1 / 30, rel=0.2)


def test_every_payload_is_an_event_the_hub_accepts_in_the_nodes_order() -> None:
    random.seed(7)
    model = LoadModel(checkpoints=100)
    node = Node(42, model, 0.0)
    messages = [m for _ in range(400) for m in node.person(model)]
    messages.append(node.health(1000.0))
    events = []
    for topic, payload in messages:
        got = classify(topic, payload, datetime.now(UTC), IngestSettings())
        assert isinstance(got, Reading | Passage | Health), got
        events.append(got)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    passages = [e for e in events if isinstance(e, Passage)]
    assert len(passages) == 400
    fevers = [p for p in passages if p.temperature is not None and p.temperature.fever]
    assert fevers, "some passages are confirmed fevers, so the soak raises alerts"
    assert all(p.decision == "refuse" and p.reason == "fever" for p in fevers)
    # a re-measured person makes two readings before the passage
    readings = sum(isinstance(e, Reading) for e in events)
    assert 400 < readings < 440
