"""Every config file we ship validates: a broken example is a broken install guide. And
``checkpoint validate-config`` names the file, the key path and the problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from checkpoint.errors import ConfigError
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ward_id: phucla\ncheckpoints:\n  - {id: cp1, group: 0}\n", "checkpoints.0.group:"),
        (
            "ward_id: phucla\ncheckpoints:\n  - {id: cp1, group: 1, lanes: 2}\n",
            "checkpoints.0.lanes:",
        ),
        ("ward_id: Phuc La\ncheckpoints: [{id: cp1, group: 1}]\n", "ward_id:"),
        (
            "ward_id: phucla\nnode_defaults: {thermometer: {address: 0x90}}\n"
            "checkpoints: [{id: cp1, group: 1}]\n",
            "checkpoints.0 (node cp1-n1): node config key thermometer.address:",
        ),
        ("node_id: n1\ncheckpoint_id: c\nward_id: w\npins: {buzzer: 99}\n", "pins.buzzer:"),
        ("client_id: hub\nbatch: {max_points: 0}\n", "batch.max_points:"),
        ("node_id: [unclosed\n", "not valid YAML"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        validate_file(path)
    assert f"{path}:" in str(info.value)
    assert expected in str(info.value)
    result = subprocess.run(
        [BIN, "validate-config", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert expected in result.stderr


def test_a_bad_default_is_reported_once_not_per_node(tmp_path: Path) -> None:
    path = tmp_path / "ward.yaml"
    text = (ROOT / "wards" / "phucla.yaml").read_text()
    path.write_text(text.replace("buzzer: 13", "buzzer: 17"))  # 17 is the presence input
    with pytest.raises(ConfigError) as info:
        validate_file(path)
    message = str(info.value)
    assert message.count("\n") == 0
    assert (
        "checkpoints.0 (node phucla-cp01-n1) and 42 more node(s): node config key pins" in message
    )
    assert "GPIO 17" in message


def test_the_committed_reference_is_generated_from_the_models() -> None:
    """Regenerate with: .venv/bin/python -m greenzone.reference"""
    committed = {p.name: p.read_text(encoding="utf-8") for p in reference.DEFAULT_DIR.glob("*.md")}
    assert committed == reference.render_all()
