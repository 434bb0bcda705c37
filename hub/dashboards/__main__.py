"""``python -m hub.dashboards [DIR]``: write the dashboards' JSON (default dashboards/grafana)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hub.dashboards import all_dashboards

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "dashboards" / "grafana"


def render_all() -> dict[str, str]:
    """File name -> JSON text, exactly as committed."""
    return {d.file_name: json.dumps(d.to_json(), indent=2) + "\n" for d in all_dashboards()}


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else DEFAULT_DIR
    out.mkdir(parents=True, exist_ok=True)
    for name, text in render_all().items():
        (out / name).write_text(text, encoding="utf-8")
        print(out / name)


if __name__ == "__main__":
    main(sys.argv[1:])
