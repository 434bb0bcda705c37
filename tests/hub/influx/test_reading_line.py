"""The hub writes a reading through a fast path (``event_line``); it must be the very line
the general ``Point.to_line`` makes of the reading's point, for any reading the contract
lets through, and refuse what that refuses."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checkpoint.contract import Reading, uuid7
from hub.influx.lineproto import LineProtocolError
from hub.influx.schema import event_line, event_point

IDS = st.from_regex(r"[a-z][a-z0-9 ,=\-é\"]{0,12}", fullmatch=True)
FLOATS = st.floats(min_value=-70, max_value=380, allow_nan=False)


@given(
    node=IDS,
    checkpoint=IDS,
    ward=IDS,
    seq=st.integers(min_value=0, max_value=2**63 - 1),
    object_c=FLOATS,
    ambient_c=FLOATS,
    samples=st.integers(min_value=1, max_value=2**63 - 1),
    spread_c=st.floats(min_value=0, max_value=1e300, allow_nan=False),
    emissivity=st.floats(min_value=1e-9, max_value=1),
)
def test_a_reading_line_is_the_points_line(
    node: str,
    checkpoint: str,
    ward: str,
    seq: int,
    object_c: float,
    ambient_c: float,
    samples: int,
    spread_c: float,
    emissivity: float,
) -> None:
    reading = Reading.model_construct(
        id=uuid7(),
        seq=seq,
        node_id=node,
        checkpoint_id=checkpoint,
        ward_id=ward,
        ts=datetime(2026, 12, 7, 8, 30, tzinfo=UTC),
        object_c=object_c,
        ambient_c=ambient_c,
        samples=samples,
        spread_c=spread_c,
        emissivity=emissivity,
    )
    point = event_point(reading)
    assert event_line(reading) == (point.to_line(), point.time_ns)


@pytest.mark.parametrize(
    ("field", "value"),
    [("object_c", math.inf), ("spread_c", math.nan), ("samples", 2**63), ("node_id", "a\\b")],
)
def test_what_the_point_refuses_the_fast_path_refuses(field: str, value: object) -> None:
    values: dict[str, object] = {
        "id": uuid7(),
        "seq": 1,
        "node_id": "w-cp01-n1",
        "checkpoint_id": "w-cp01",
        "ward_id": "w",
        "ts": datetime(2026, 12, 7, 8, 30, tzinfo=UTC),
        "object_c": 36.6,
        "ambient_c": 29.0,
        "samples": 5,
        "spread_c": 0.1,
        "emissivity": 0.98,
    }
    reading = Reading.model_construct(**(values | {field: value}))
    with pytest.raises(LineProtocolError):
        event_point(reading).to_line()
    with pytest.raises(LineProtocolError):
        event_line(reading)
