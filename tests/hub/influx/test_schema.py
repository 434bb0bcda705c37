"""The schema document names every measurement the hub writes; ids are never tags."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from checkpoint.contract import Reading, uuid7
from hub.influx.lineproto import FieldValue, LineProtocolError, Point
from hub.influx.schema import MEASUREMENTS, event_point, point_time_ns

DOC = Path(__file__).resolve().parents[3] / "docs" / "influx-schema.md"


def test_every_measurement_is_documented() -> None:
    text = DOC.read_text()
    for name in MEASUREMENTS:
        assert f"| `{name}` |" in text


def _reading(seq: int, ts: datetime) -> Reading:
    return Reading(
        id=uuid7(),
        seq=seq,
        node_id="cp01-n1",
        checkpoint_id="cp01",
        ward_id="phucla",
        ts=ts,
        object_c=36.5,
        ambient_c=28.0,
        samples=5,
        spread_c=0.1,
        emissivity=0.98,
    )


def test_point_time_is_unique_per_node_within_a_millisecond() -> None:
    ts = datetime(2026, 11, 22, 8, 0, 0, 123456, tzinfo=UTC)
    times = {point_time_ns(_reading(seq, ts)) for seq in range(1000)}
    assert len(times) == 1000
    assert min(times) // 1_000_000 == int(ts.timestamp() * 1000)


def test_ids_are_fields_not_tags() -> None:
    point = event_point(_reading(1, datetime.now(UTC)))
    assert "event_id" in point.fields
    assert set(point.tags) == {"ward", "checkpoint", "node"}


def test_line_protocol_escaping() -> None:
    line = Point("m x", {"t,a": "v=1 2"}, {"f": 'say "hi" C:\\', "i": 3, "b": True}, 5).to_line()
    assert line == 'm\\ x,t\\,a=v\\=1\\ 2 f="say \\"hi\\" C:\\\\",i=3i,b=true 5'


@pytest.mark.parametrize(
    ("tags", "fields"),
    [
        ({"level": "green\n"}, {"f": 1}),  # a newline would start a second point
        ({"level": "green\\"}, {"f": 1}),  # InfluxDB refuses a tag ending in a backslash
        ({"level": "a\\b"}, {"f": 1}),
        ({"level\r": "green"}, {"f": 1}),
        ({}, {"detail": "one\ntwo"}),
        ({}, {"detail": "nul\x00"}),
        ({}, {"f": float("nan")}),
        ({}, {"f": float("inf")}),
        ({}, {"i": 2**63}),
        ({}, {}),
    ],
)
def test_line_protocol_refuses_what_it_cannot_carry(
    tags: dict[str, str], fields: dict[str, FieldValue]
) -> None:
    with pytest.raises(LineProtocolError):
        Point("m", tags, fields, 5).to_line()
