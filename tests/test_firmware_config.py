"""Every config file we ship validates: a broken example is a broken install guide."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkpoint.commands.validate import model_for
from checkpoint.settings.loading import read_yaml, validate_data

ROOT = Path(__file__).resolve().parents[1] / "firmware_config"
FILES = sorted(ROOT.rglob("*.yaml"))


def test_there_are_files_to_check() -> None:
    assert FILES


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_shipped_config_validates(path: Path) -> None:
    data = read_yaml(path)
    validate_data(model_for(data), data, str(path))
