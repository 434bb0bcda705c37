"""Reading a YAML config file so that every error can point at a line: duplicate keys and
empty files are refused, syntax errors are one line, and each key's position is kept.

PyYAML's composer gives every node its start mark; the document is built from the same
nodes, so a key path (``("thermometer", "address")``, as pydantic reports it) maps to the
line and column where that key is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from checkpoint.errors import ConfigError

Loc = tuple[str | int, ...]
_MERGE = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class YamlDoc:
    """A loaded file: its data and where each key or list item starts (1-based)."""

    source: str
    data: Any
    marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def position(self, loc: Loc) -> tuple[int, int]:
        """Line and column of the deepest part of ``loc`` that is in the file."""
        for end in range(len(loc), 0, -1):
            mark = self.marks.get(tuple(loc[:end]))
            if mark is not None:
                return mark
        return (1, 1)

    def where(self, loc: Loc) -> str:
        """``file:line:col`` (for data that came from no file: just its source)."""
        if not self.marks:
            return self.source
        line, col = self.position(loc)
        return f"{self.source}:{line}:{col}"


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _value in node.value:
            if key_node.tag == _MERGE:
                continue  # "<<: *defaults" may be overridden on purpose
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:
                continue  # an unhashable key: SafeLoader's own error names it
            if first is not key_node.start_mark:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} appears twice (first at line {first.line + 1})",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def _walk(node: yaml.Node, loader: _Loader, loc: Loc, marks: dict[Loc, tuple[int, int]]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, str | int):
                here = (*loc, key)
                # After "<<: *anchor" the merged keys come first: the file's own key wins.
                marks[here] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                _walk(value_node, loader, here, marks)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            here = (*loc, index)
            marks[here] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _walk(item, loader, here, marks)


def _syntax_error(source: str, exc: yaml.YAMLError) -> ConfigError:
    """One line: where, what, and what it was inside of."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        context = ""
        if exc.context and exc.context_mark is not None:
            context = f" ({exc.context} at line {exc.context_mark.line + 1})"
        problem = " ".join((exc.problem or "").split())
        return ConfigError(f"{source}:{mark.line + 1}:{mark.column + 1}: {problem}{context}")
    return ConfigError(f"{source}: not valid YAML: {' '.join(str(exc).split())}")


def parse_yaml(text: str, source: str) -> YamlDoc:
    """Parse ``text``; ConfigError (one line with file:line:col) for anything but a
    non-empty mapping without duplicate keys."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(f"{source}:1:1: the file is empty (no keys)")
        data = loader.construct_document(node)
        if not isinstance(data, dict):
            raise ConfigError(
                f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}: "
                f"a config file is a mapping (key: value lines), not a {type(data).__name__}"
            )
        if not data:
            raise ConfigError(f"{source}:1:1: the file is empty (no keys)")
        marks: dict[Loc, tuple[int, int]] = {}
        _walk(node, loader, (), marks)
    except yaml.YAMLError as exc:
        raise _syntax_error(source, exc) from None
    finally:
        loader.dispose()
    return YamlDoc(source, data, marks)


def load_yaml(path: Path) -> YamlDoc:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_yaml(text, str(path))
