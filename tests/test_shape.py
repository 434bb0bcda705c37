"""The shape of the tree: layers import only downward, and modules stay small.

checkpoint/ is the shared base (contract, passes, settings, local stack); edge/ and hub/
stand on it side by side; greenzone/ (the CLI, demo, provisioning) composes them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400
# package -> top-level packages it must never import
FORBIDDEN = {
    "checkpoint": {"edge", "hub", "greenzone"},
    "edge": {"hub", "greenzone"},
    "hub": {"edge", "greenzone"},
}


def imported_packages(source: str) -> set[str]:
    """Top-level packages ``source`` imports, wherever the import stands (also under
    TYPE_CHECKING or inside a function)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_the_import_check_sees_every_kind_of_import() -> None:
    source = (
        "import edge.node\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from hub.config import HubConfig\n"
        "def f():\n    import greenzone.cli\n"
    )
    assert imported_packages(source) >= {"edge", "hub", "greenzone"}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_only_downward(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(bad)
        for path in sorted((ROOT / package).rglob("*.py"))
        if (bad := imported_packages(path.read_text()) & FORBIDDEN[package])
    }
    assert offenders == {}


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for package in ("checkpoint", "edge", "hub", "greenzone")
        for path in sorted((ROOT / package).rglob("*.py"))
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
