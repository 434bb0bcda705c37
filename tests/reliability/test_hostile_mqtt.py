"""Hostile MQTT input while a ward's good nodes publish through a running hub.

A hostile client publishes fuzzed payloads (hypothesis: random bytes, random JSON, events
with fields mutated, on fuzzed topics) and hand-made ones: oversized, invalid UTF-8, JSON
nested far past Python's recursion limit, wrong schema versions, a node id that is not
its topic's, unknown topics. The outcome: the hub stays up and ready; every hostile
message is in the dead-letter store, by reason and with its raw bytes; the good traffic is
stored exactly once; nothing of the hostile client's reaches InfluxDB.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from checkpoint.contract import MAX_PAYLOAD_BYTES, encode, topics
from checkpoint.localstack import Mosquitto
from checkpoint.settings.mqtt import MqttSettings
from hub.config import IngestSettings
from hub.influx.v1 import InfluxV1
from hub.ingest.classify import ALL_REASONS, DECODE_ERROR, Rejected, classify
from hub.service import HubService
from tests.helpers import wait_for
from tests.hub.conftest import RawPublisher, fast_config, reading
from tests.reliability.conftest import Ledger
from tests.reliability.hostile import assert_hub_healthy, ward_traffic
from tests.reliability.ledger import account, fired_alert_kinds, stored_event_ids


@dataclass(frozen=True)
class Hostile:
    topic: str
    payload: bytes
    reason: str  # the dead-letter reason it must end up under


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A broker of its own: nothing retained by other tests reaches this hub's dead letters,
    and nothing hostile is left retained for them."""
    server = Mosquitto(tmp_path_factory.mktemp("hostile-broker"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mqtt(broker: Mosquitto) -> MqttSettings:
    return MqttSettings(host=broker.host, port=broker.port)


@pytest.fixture
def hub(mqtt: MqttSettings, influx: InfluxV1, unique: str, tmp_path: Path) -> Iterator[HubService]:
    service = HubService(fast_config(mqtt, influx.url, influx.database, f"hub-{unique}", tmp_path))
    service.start()
    yield service
    service.stop()


def hand_made(hostile: str, good: str) -> list[Hostile]:
    """Each kind of bad input once, with the reason the contract gives it."""
    own = topics.event_topic(hostile, "reading")
    event = json.loads(encode(reading(hostile, 1)))

    def with_(**changes: Any) -> bytes:
        return json.dumps({**event, **changes}).encode()

    deep_array = b"[" * 30_000 + b"]" * 30_000  # 60 KB: under the size limit, parsed
    return [
        # Over the hub's 64 KiB limit; Mosquitto's own limit (message_size_limit) is unset,
        # so it reaches the hub, which keeps the first dead_letter_max_bytes (1 MiB).
        Hostile(own, b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", "oversized"),
        Hostile(own, b'{"v": 1, "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}', "oversized"),
        Hostile(own, b"[" * 100_000 + b"]" * 100_000, "oversized"),
        # Invalid UTF-8: a stray byte, an overlong '/', a lone surrogate, a cut sequence.
        Hostile(own, b"\xff" + encode(reading(hostile, 2)), "not_utf8"),
        Hostile(own, with_(ward_id="x").replace(b'"x"', b'"\xc0\xaf"'), "not_utf8"),
        Hostile(own, with_(ward_id="x").replace(b'"x"', b'"\xed\xa0\x80"'), "not_utf8"),
        Hostile(own, encode(reading(hostile, 3))[:-2] + b"\xe2\x82", "not_utf8"),
        # Nesting far past Python's recursion limit (json raises RecursionError).
        Hostile(own, deep_array, "not_json"),
        Hostile(own, b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "not_json"),
        Hostile(own, with_(ward_id="x").replace(b'"x"', deep_array), "not_json"),
        # Deep but parseable: the model refuses the unknown field.
        Hostile(own, with_(extra=json.loads("[" * 500 + "]" * 500)), "bad_schema"),
        Hostile(own, b"", "not_json"),
        Hostile(own, b"null", "bad_schema"),
        # Wrong schema versions; "v": true once passed as 1 (True == 1 in Python).
        Hostile(own, with_(v=2), "unsupported_version"),
        Hostile(own, with_(v="1"), "unsupported_version"),
        Hostile(own, with_(v=True), "unsupported_version"),
        Hostile(own, with_(v=None), "unsupported_version"),
        # A node id that is not the topic's: the hostile event on a good node's topic, and
        # a good node's id in the payload on the hostile node's topic.
        Hostile(topics.event_topic(good, "reading"), with_(), "node_mismatch"),
        Hostile(own, with_(node_id=good), "node_mismatch"),
        Hostile(topics.event_topic(hostile, "passage"), with_(), "type_mismatch"),
        # Unknown topics under the node tree (the hub subscribes to all of it).
        Hostile(f"{topics.UP}/{hostile}/selfie", with_(), "unknown_topic"),
        Hostile(f"{topics.UP}/{hostile}/events", with_(), "unknown_topic"),
        Hostile(f"{topics.UP}/{hostile.upper()}/events/reading", with_(), "unknown_topic"),
        Hostile(f"{own}/more", with_(), "unknown_topic"),
        Hostile(f"{topics.UP}/{hostile}/status/x", b"online", "unknown_topic"),
        Hostile(topics.status_topic(hostile), b"online", "not_json"),
        # Dated far from the hub's clock.
        Hostile(
            own, with_(ts=(datetime.now(UTC) + timedelta(days=2)).isoformat()), "bad_timestamp"
        ),
    ]


# ---------------------------------------------------------------- hypothesis strategies

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)
# Values a careless or malicious node might put in a field, next to random JSON.
SPECIAL = [
    True,
    -1,
    0,
    2,
    10**30,
    1e308,
    "",
    "\u0000",
    "1",
    "reading",
    "passage",
    "0190c0de-0000-7000-8000-000000000000",
    "1970-01-01T00:00:00Z",
    "2999-01-01T00:00:00+00:00",
    "2024-01-01T00:00:00",  # no zone
    "x" * 300,
]
FIELD_VALUES = JSON_VALUES | st.sampled_from(SPECIAL)
# Topic levels of printable junk; never MQTT wildcards or NUL, which a broker refuses.
TOPIC_TEXT = st.text(alphabet="abcxyz019-_/ .$éUP", max_size=40)


def strategies(hostile: str, good: str) -> tuple[st.SearchStrategy[tuple[str, bytes]], ...]:
    own = topics.event_topic(hostile, "reading")
    topic = st.one_of(
        st.just(own),
        st.sampled_from(
            [
                topics.event_topic(hostile, "passage"),
                topics.status_topic(hostile),
                topics.event_topic(good, "reading"),
            ]
        ),
        TOPIC_TEXT.map(lambda s: f"{topics.UP}/{s}"),
    )
    base = json.loads(encode(reading(hostile, 7)))
    fields = sorted(base)

    @st.composite
    def mutated(draw: st.DrawFn) -> bytes:
        data = dict(base)
        for _ in range(draw(st.integers(1, 3))):
            if draw(st.booleans()):
                data.pop(draw(st.sampled_from(fields)), None)
            else:
                name = draw(st.sampled_from([*fields, "extra", "V", ""]))
                data[name] = draw(FIELD_VALUES)
        return json.dumps(data).encode()

    random_bytes = st.tuples(topic, st.binary(max_size=2000))
    random_json = st.tuples(topic, JSON_VALUES.map(lambda v: json.dumps(v).encode()))
    near_schema = st.tuples(topic, mutated())
    return random_bytes, random_json, near_schema


def fuzzed(hostile: str, good: str, examples: int) -> list[Hostile]:
    """Hypothesis-generated hostile messages; each checked against the hub's own classifier
    first: it must refuse (never raise, never call it a decoder bug). A generated message
    that happens to be valid is not hostile and is not sent."""
    out: list[Hostile] = []
    ingest = IngestSettings()
    for strategy in strategies(hostile, good):

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,  # the examples are sent, not replayed: no cross-run state
            suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
        )
        @given(strategy)
        def collect(message: tuple[str, bytes]) -> None:
            topic, payload = message
            result = classify(topic, payload, datetime.now(UTC), ingest)
            assume(isinstance(result, Rejected))
            assert isinstance(result, Rejected)
            assert result.reason in ALL_REASONS
            assert result.reason != DECODE_ERROR, result.detail
            out.append(Hostile(topic, payload, result.reason))

        collect()
    return out


# ---------------------------------------------------------------- the scenario


@pytest.mark.parametrize(
    ("examples", "seconds"),
    [
        pytest.param(40, 3.0, id="short"),
        pytest.param(1000, 60.0, id="long", marks=pytest.mark.slow),
    ],
)
def test_hostile_payloads_are_dead_lettered_and_good_traffic_is_exact(
    hub: HubService,
    influx: InfluxV1,
    mqtt: MqttSettings,
    unique: str,
    ledger: Ledger,
    examples: int,
    seconds: float,
) -> None:
    hostile = f"{unique}-cp99-n1"
    with ward_traffic(unique, 4, mqtt, people_per_s=20, fever_at=1) as traffic:
        good = traffic.node_ids[0]
        sent = hand_made(hostile, good) + fuzzed(hostile, good, examples)
        # Spread over the traffic, so hostile and good messages interleave at the hub.
        attacker = RawPublisher(mqtt, f"attacker-{unique}")
        try:
            chunks = 20
            for i in range(chunks):
                attacker.publish([(h.topic, h.payload) for h in sent[i::chunks]], timeout_s=60)
                time.sleep(seconds / chunks)
        finally:
            attacker.close()
    assert hub.dead_letters is not None
    store = hub.dead_letters
    wait_for(
        lambda: sum(store.count_by_reason().values()) >= len(sent),
        timeout_s=120,
        what="every hostile message dead-lettered",
    )
    assert_hub_healthy(hub)

    by_reason = Counter(h.reason for h in sent)
    assert store.count_by_reason() == by_reason
    # Kept with the topic it came on and its raw bytes (cut at dead_letter_max_bytes).
    limit = hub.config.ingest.dead_letter_max_bytes
    kept = Counter((d.reason, d.topic, d.payload) for d in store.recent(len(sent) + 10))
    assert kept == Counter((h.reason, h.topic, h.payload[:limit]) for h in sent)
    assert max(d.payload_bytes for d in store.recent(len(sent) + 10)) > 2 * 1024 * 1024

    ids = traffic.ids
    nodes = traffic.node_ids
    wait_for(
        lambda: len(set(stored_event_ids(influx, nodes=nodes))) >= len(ids),
        timeout_s=120,
        what="every good event stored",
    )
    wait_for(
        lambda: "fever" in fired_alert_kinds(influx, ward=unique),
        timeout_s=60,
        what="the fever alert",
    )
    assert stored_event_ids(influx, nodes=[hostile]) == []
    assert hub.ingest is not None
    ledger.record(
        account(
            f"hostile MQTT input ({seconds:.0f}s, {len(sent)} hostile)",
            ids,
            stored_event_ids(influx, nodes=nodes),
            alerts_expected=["fever"],
            alerts_fired=fired_alert_kinds(influx, ward=unique),
            hostile_sent=len(sent),
            dead_lettered=sum(store.count_by_reason().values()),
            by_reason=dict(sorted(by_reason.items())),
            hub_rejected=hub.ingest.stats["rejected"],
        )
    )
