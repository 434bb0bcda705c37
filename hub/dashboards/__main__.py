"""``python -m hub.dashboards [DIR]``: write the dashboards' JSON (default dashboards/grafana)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from checkpoint.generated import write_files
from hub.dashboards import all_dashboards

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "dashboards" / "grafana"


def render_all() -> dict[str, str]:
    """File name -> JSON text, exactly as committed."""
    return {d.file_name: json.dumps(d.to_json(), indent=2) + "\n" for d in all_dashboards()}


def main(argv: list[str]) -> None:
    write_files(argv, DEFAULT_DIR, render_all())


if __name__ == "__main__":
    main(sys.argv[1:])
