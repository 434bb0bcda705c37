"""Rules and alerts in the hub's config file: per-ward overrides, misspellings refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkpoint.errors import ConfigError
from checkpoint.settings.loading import load_model
from hub.config import HubConfig


def test_per_ward_overrides_from_the_hub_file(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(
        "rules:\n"
        "  defaults:\n"
        "    heartbeat_timeout_s: 120\n"
        "  wards:\n"
        "    hoangmai:\n"
        "      refused_burst_count: 12\n"
        "alerts:\n"
        "  webhooks:\n"
        "    - url: http://chat-bridge.local/hook\n"
        "      wards: [hoangmai]\n"
    )
    config = load_model(HubConfig, path)
    hoangmai = config.rules.for_ward("hoangmai")
    assert hoangmai.refused_burst_count == 12
    assert hoangmai.heartbeat_timeout_s == 120  # the file's default, not the code's
    assert config.rules.for_ward("phucla").refused_burst_count == 5
    assert config.alerts.webhooks[0].wards == ["hoangmai"]


def test_a_misspelt_threshold_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text("rules:\n  wards:\n    phucla:\n      refused_burst_cuont: 3\n")
    with pytest.raises(ConfigError, match="refused_burst_cuont"):
        load_model(HubConfig, path)
