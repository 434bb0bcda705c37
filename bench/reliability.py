"""Run every reliability scenario, the long variants too, and print their account.

    ./run bench reliability [PYTEST ARGS]

Each scenario is a test in tests/reliability/ that ends in an exact account: events
emitted, stored, missing and duplicated, and whether the expected alerts fired. The
README's test command runs the fast variants; this runs all of them (about 40 minutes on
two cores) and prints a table, then one JSON line:
{"scenarios": [...], "missing": N, "duplicated": N, "all_ok": bool}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ("scenario", "emitted", "stored", "missing", "duplicated", "alerts_ok", "ok")


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="reliability-") as scratch:
        report = Path(scratch) / "report.json"
        env = {**os.environ, "CHECKPOINT_RELIABILITY_REPORT": str(report)}
        # -m "not hardware": the slow variants too. -p no:cacheprovider: leave no cache.
        code = subprocess.call(
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/reliability",
                "-m",
                "not hardware",
                "-p",
                "no:cacheprovider",
                "-q",
                *argv,
            ],
            cwd=ROOT,
            env=env,
        )
        results = json.loads(report.read_text()) if report.exists() else []
    widths = [max(len(c), *(len(str(r[c])) for r in results)) for c in COLUMNS]
    print()
    print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    for r in results:
        print("  ".join(str(r[c]).ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    summary = {
        "scenarios": results,
        "missing": sum(r["missing"] for r in results),
        "duplicated": sum(r["duplicated"] for r in results),
        "all_ok": bool(results) and code == 0 and all(r["ok"] for r in results),
        "pytest_exit": code,
    }
    print(json.dumps(summary))
    return 0 if summary["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
