"""The demo's counts are InfluxDB's: each event printed and counted once, whichever of the
hub's two lanes brought it, and as many as InfluxDB holds distinct event ids."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BIN = str(Path(sys.executable).with_name("checkpoint"))


def number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found is not None, f"{pattern!r} not in the demo's output:\n{text}"
    return int(found.group(1))


def test_demo_and_metrics_count_what_influxdb_holds(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path), "COLUMNS": "250"}
    result = subprocess.run(
        [BIN, "demo", "--nodes", "3", "--duration", "4", "--rate", "8"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    in_influx = number(r"InfluxDB: (\d+) distinct events", out)
    assert in_influx > 0
    # The hub's counter and its Prometheus metric count distinct events.
    assert number(r"hub: \d+ received, (\d+) stored", out) == in_influx
    assert number(r"checkpoint_hub_events_stored_total (\d+)", out) == in_influx
    # Each stored event the demo prints, printed once.
    for kind, name in (("reading", "readings"), ("passage", "passages"), ("barrier", "barrier")):
        printed = len(re.findall(rf"stored {kind} ", out))
        assert printed == number(rf"(\d+) {name}", out), f"{kind}: printed {printed} times"
    # And the nodes let go of each event once, on the hub's confirmation.
    assert number(r"(\d+)\s+events confirmed by the hub", out) == in_influx
    assert number(r"(\d+)\s+events waiting in outboxes", out) == 0
