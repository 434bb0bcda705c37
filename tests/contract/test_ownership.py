"""The contract owns the topic tree: no module outside checkpoint/contract/ builds a topic
from its parts, spells one out, or splits one. (Docstrings may name topics for readers.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("checkpoint", "edge", "hub", "greenzone")
CONTRACT = ROOT / "checkpoint" / "contract"
# The contract's prefixes: using one outside the contract means building a topic by hand.
PREFIXES = {"ROOT", "UP", "DOWN", "TRUST", "ALERTS"}


def sources() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if CONTRACT not in path.parents
    ]


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def topic_handling(source: str) -> list[str]:
    """What in ``source`` builds, spells out or splits a topic, one line each."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        where = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if id(node) not in docstrings and (
                "checkpoint/v1" in text or text.endswith("/#") or "/+/" in text
            ):
                found.append(f"{where}: topic text {text!r}")
        elif isinstance(node, ast.Attribute) and node.attr in PREFIXES:
            if isinstance(node.value, ast.Name) and node.value.id == "topics":
                found.append(f"{where}: topics.{node.attr} used to build a topic")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            splits = node.func.attr in {"split", "rsplit", "partition", "rpartition"}
            slash = [a for a in node.args[:1] if isinstance(a, ast.Constant) and a.value == "/"]
            if splits and slash:
                found.append(f"{where}: .{node.func.attr}('/')")
    return found


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ('t = f"{topics.TRUST}/#"', "a trust filter built by hand"),
        ('SUB = "checkpoint/v1/up/+/status"', "a topic spelt out"),
        ("parts = topic.split('/')", "a topic split by index"),
        ("name = topic.rsplit('/', 1)[-1]", "a topic's last level taken by hand"),
    ],
)
def test_the_check_finds_hand_built_topics(source: str, why: str) -> None:
    assert topic_handling(source), why


def test_a_docstring_may_name_a_topic() -> None:
    assert topic_handling('"""Retained on ``checkpoint/v1/down/<node>/config``."""') == []


def test_no_module_outside_the_contract_builds_or_splits_a_topic() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in sources()
        if (found := topic_handling(path.read_text()))
    }
    assert offenders == {}
