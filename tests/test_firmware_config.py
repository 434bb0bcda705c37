"""Every config file we ship validates: a broken example is a broken install guide.
(Broken files and their messages: tests/settings/test_config_errors.py.)"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from checkpoint.passes.model import Category, within
from checkpoint.passes.wardpolicy import compose
from checkpoint.settings.loading import load_model
from greenzone import reference
from greenzone.commands.validate import validate_file
from greenzone.provision.ward import WardConfig, check_node_configs

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


def test_the_phuc_la_ward_runs_7h_to_22h_in_4_shifts_with_a_zone_per_group() -> None:
    ward = load_model(WardConfig, ROOT / "wards" / "phucla.yaml")
    policy = compose({ward.ward_id: ward.policy}, 2, datetime(2026, 11, 22, tzinfo=UTC))
    assert [s.name for s in ward.policy.shifts] == ["ca1", "ca2", "ca3", "ca4"]
    assert (ward.policy.shifts[0].hours.start, ward.policy.shifts[-1].hours.end) == (
        7 * 60,
        22 * 60,
    )
    configs = check_node_configs(ward, "phucla.yaml")
    assert {c["zone_id"] for c in configs} == {f"phucla-to{g:02d}" for g in range(1, 20)}
    # The ward raised to level4 reaches every group's zone; 23h is curfew but for crews.
    rule = policy.rule("phucla", "level4", "phucla-to07")
    assert rule is not None
    assert policy.effective_level({"phucla": "level4"}, "phucla-cp13", "phucla-to07") == "level4"
    assert not within(rule.hours, 23 * 60)
    assert Category.EMERGENCY in rule.hours_exempt
    night = datetime(2026, 11, 22, 16, tzinfo=UTC)  # 23h local
    morning = policy.shift_at("phucla", "phucla-cp13", datetime(2026, 11, 22, 1, tzinfo=UTC))
    assert policy.shift_at("phucla", "phucla-cp13", night) is None
    assert morning is not None
    assert morning.name == "ca1"  # 8h local


def test_the_committed_reference_is_generated_from_the_models() -> None:
    """Regenerate with: .venv/bin/python -m greenzone.reference"""
    committed = {p.name: p.read_text(encoding="utf-8") for p in reference.DEFAULT_DIR.glob("*.md")}
    assert committed == reference.render_all()
