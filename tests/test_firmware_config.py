"""Every config file we ship validates: a broken example is a broken install guide.
(Broken files and their messages: tests/settings/test_config_errors.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from checkpoint.settings.loading import load_model
from greenzone import reference
from greenzone.commands.validate import validate_file
from greenzone.provision.ward import WardConfig

ROOT = Path(__file__).resolve().parents[1] / "firmware_config"
FILES = sorted(ROOT.rglob("*.yaml"))
BIN = str(Path(sys.executable).with_name("checkpoint"))


def test_there_are_files_to_check() -> None:
    assert FILES
    assert ROOT / "wards" / "phucla.yaml" in FILES


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_shipped_config_validates(path: Path) -> None:
    validate_file(path)


def test_validate_config_accepts_every_shipped_file() -> None:
    result = subprocess.run(
        [BIN, "validate-config", *map(str, FILES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": ok (") == len(FILES)


def test_the_phuc_la_ward_has_40_checkpoints_over_19_groups() -> None:
    ward = load_model(WardConfig, ROOT / "wards" / "phucla.yaml")
    assert len(ward.checkpoints) == 40
    assert {c.group for c in ward.checkpoints} == set(range(1, 20))


def test_the_committed_reference_is_generated_from_the_models() -> None:
    """Regenerate with: .venv/bin/python -m greenzone.reference"""
    committed = {p.name: p.read_text(encoding="utf-8") for p in reference.DEFAULT_DIR.glob("*.md")}
    assert committed == reference.render_all()
