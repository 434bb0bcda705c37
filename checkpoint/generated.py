"""Files generated from the code (the config reference, the Grafana dashboards): written by
a module's ``python -m`` entry point, and compared by a test with what is committed."""

from __future__ import annotations

from pathlib import Path


def write_files(argv: list[str], default_dir: Path, files: dict[str, str]) -> None:
    """Write ``files`` (name -> text) into ``argv[0]``, or ``default_dir`` without one."""
    out = Path(argv[0]) if argv else default_dir
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
        print(out / name)
