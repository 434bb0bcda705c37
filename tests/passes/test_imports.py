"""checkpoint/passes is shared by node and hub: at import it needs only pydantic and
cryptography, so a node without segno verifies, and the hub does not pull in edge code."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import checkpoint.passes.codec, checkpoint.passes.envelope, checkpoint.passes.policy
import checkpoint.passes.qr
heavy = {"segno", "numpy", "edge", "hub", "paho", "zxingcpp", "yaml", "typer"}
print(sorted(m for m in sys.modules if m.split(".")[0] in heavy))
"""


def test_shared_pass_code_imports_only_the_basics() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
