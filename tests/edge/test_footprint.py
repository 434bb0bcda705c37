"""What ``checkpoint edge run`` loads: the node, not the hub, the demo, provisioning or a
camera stack (a Pi Zero 2 W has 512 MB; bench/edge_outbox.py measures the node's memory)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import run_checkpoint

# Top-level packages that a node without a camera never uses.
NOT_ON_A_NODE = {"numpy", "PIL", "hub", "rich", "fastapi", "starlette", "sqlalchemy", "segno"}


def test_the_node_command_imports_nothing_of_the_hub_demo_or_camera(tmp_path: Path) -> None:
    # A config that fails to load stops the run after everything it imports is loaded;
    # -X importtime lists each module the process imported, on stderr.
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    result = run_checkpoint("edge", "run", "--config", str(tmp_path / "none.yaml"), env=env)
    assert result.returncode == 1
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert {"edge.service", "edge.node", "gpiozero"} <= imported
    top_level = {name.split(".")[0] for name in imported}
    assert top_level & NOT_ON_A_NODE == set()
    assert not any(name.startswith("greenzone.commands") for name in imported)
