"""The hub config: defaults that run, relative state paths under data_dir, typos refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.config import HubConfig


def test_relative_sqlite_state_goes_into_the_data_dir(tmp_path: Path) -> None:
    cfg = HubConfig(data_dir=tmp_path)
    assert cfg.resolved_state_url() == f"sqlite:///{tmp_path.resolve()}/hub-state.db"


def test_absolute_and_server_state_urls_are_kept(tmp_path: Path) -> None:
    absolute = f"sqlite:///{tmp_path}/x.db"
    assert HubConfig(state_url=absolute).resolved_state_url() == absolute
    pg = "postgresql+psycopg://hub@db:5432/checkpoint"
    assert HubConfig(state_url=pg).resolved_state_url() == pg


def test_a_misspelt_ingest_key_is_an_error() -> None:
    with pytest.raises(ValidationError, match="max_futur_s"):
        HubConfig.model_validate({"ingest": {"max_futur_s": 10}})
