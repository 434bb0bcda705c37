"""The node config's new sections: defaults that work, clear errors for bad values."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from checkpoint.contract.node.config import NodeConfig

BASE: dict[str, Any] = {"node_id": "w-cp01-n1", "checkpoint_id": "w-cp01", "ward_id": "w"}


def test_defaults_are_a_working_node() -> None:
    cfg = NodeConfig.model_validate(BASE)
    assert cfg.thermometer.fever_threshold_c == 37.5
    assert cfg.barrier.held_open_limit_s > cfg.barrier.open_s
    assert cfg.zone_level == "green"
    assert cfg.pins.presence_out is None


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("barrier", {"open_secs": 3}, "Extra inputs are not permitted"),
        ("barrier", {"open_s": 40, "held_open_limit_s": 30}, "held_open_limit_s must exceed"),
        ("thermometer", {"fever_threshold_c": 37.5, "plausible_max_c": 37.0}, "plausible"),
        ("scanner", {"dedup_window_s": "soon"}, "valid number"),
        ("pins", {"presence_out": 13}, "GPIO 13 is used for both"),
        ("direction", "sideways", "'in' or 'out'"),
    ],
)
def test_bad_values_are_refused_with_the_reason(section: str, values: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        NodeConfig.model_validate({**BASE, section: values})
