"""``checkpoint edge run`` meets a bad config file or hardware it cannot drive: one clear
line, exit code 1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import run_checkpoint

GOOD = "node_id: n1\ncheckpoint_id: cp1\nward_id: w1\n"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "uplink:\n  outbox:\n    max_byte: 1000000\n",
            "uplink.outbox.max_byte: unknown key; did you mean max_bytes?",
        ),
        ("uplink:\n  outbox:\n    rate_per_s: fast\n", "uplink.outbox.rate_per_s: Input should"),
        ("uplink:\n  link:\n    backoff_min_s: 10\n    backoff_max_s: 1\n", "backoff_max_s"),
    ],
)
def test_a_wrong_key_or_type_is_one_clear_line(tmp_path: Path, extra: str, expected: str) -> None:
    path = tmp_path / "node.yaml"
    path.write_text(GOOD + extra)
    result = run_checkpoint("edge", "run", "--config", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert result.stderr.strip().count("\n") == 0
    assert expected in result.stderr
    assert str(path) in result.stderr


def test_a_node_that_cannot_be_built_says_why(tmp_path: Path) -> None:
    # No pin factory gpiozero can load, as on a machine without GPIO: the runtime stops
    # an uplink it never started, and the person sees gpiozero's reason, not that.
    path = tmp_path / "node.yaml"
    path.write_text(GOOD + f"uplink:\n  outbox:\n    path: {tmp_path / 'outbox.db'}\n")
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "no-such-factory"}
    result = run_checkpoint("edge", "run", "--config", str(path), env=env)
    assert result.returncode == 1
    assert "error: Unable to find pin factory 'no-such-factory'" in result.stderr
    assert "RuntimeError" not in result.stderr
