"""Load YAML config files into models, with one line per error that names the file, the
line and column, and the key: what a technician can act on.

    phucla.yaml:23:5: node_defaults.thermometer.adress: unknown key; did you mean address?
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from checkpoint.errors import ConfigError
from checkpoint.settings.fields import submodel
from checkpoint.settings.yamlfile import Loc, YamlDoc, load_yaml

M = TypeVar("M", bound=BaseModel)


def key_path(loc: Loc, data: Any = None) -> str:
    """``checkpoints[phucla-cp07].overrides.pins``: list items by their ``id`` when they
    have one, else by index."""
    out, node = "", data
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            name = item.get("id") if isinstance(item, dict) else None
            out += f"[{name if isinstance(name, str) else part}]"
            node = item
        else:
            out += f".{part}" if out else part
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model that holds the key at ``loc`` (for "did you mean")."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        info = current.model_fields.get(part)
        current = submodel(info.annotation) if info is not None else None
    return current


def describe_error(model: type[BaseModel], err: ErrorDetails, data: Any = None) -> str:
    """The problem in words; ``data`` (the whole document) keeps "did you mean" from
    suggesting a key the file already has."""
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        close = _suggestions(model, loc, data)
        return "unknown key" + (f"; did you mean {close[0]}?" if close else "")
    if err["type"] == "missing":
        return "missing (required)"
    if err["type"] == "literal_error" and loc == ("kind",):
        expected = model.model_fields["kind"].default
        return f"this is a {err['input']!r} config file, not a {expected!r} one"
    msg = err["msg"]
    return msg.removeprefix("Value error, ")


def error_lines(model: type[M], doc: YamlDoc, exc: ValidationError) -> list[str]:
    """One ``file:line:col: key: problem`` line per error. A misspelt key that is the
    close match of a missing required key is one error, not two."""
    errors = exc.errors()
    wrong_kind = [e for e in errors if e["type"] == "literal_error" and e["loc"] == ("kind",)]
    if wrong_kind:
        errors = wrong_kind  # the other errors only repeat that it is another kind of file
    guessed = {
        (*e["loc"][:-1], m)
        for e in errors
        if e["type"] == "extra_forbidden"
        for m in _suggestions(model, tuple(e["loc"]), doc.data)
    }
    lines = []
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "missing" and loc in guessed:
            continue
        problem = describe_error(model, err, doc.data)
        text = f"{doc.where(loc)}: {key_path(loc, doc.data)}: {problem}"
        lines.append((doc.position(loc), text))
    return [text for _, text in sorted(lines)]  # in file order


def _suggestions(model: type[BaseModel], loc: Loc, data: Any) -> list[str]:
    """The model's key closest to a misspelt one, among those the file does not set."""
    parent = _model_at(model, loc[:-1])
    node = data
    for part in loc[:-1]:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    present = set(node) if isinstance(node, dict) else set()
    names = [n for n in (parent.model_fields if parent is not None else ()) if n not in present]
    return difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)


def validate_doc(model: type[M], doc: YamlDoc) -> M:
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigError("\n".join(error_lines(model, doc, exc))) from None


def validate_data(model: type[M], data: Any, source: str) -> M:
    """Data that did not come from a file (a config pushed over MQTT): key paths only."""
    return validate_doc(model, YamlDoc(source, data))


def read_yaml(path: Path) -> Any:
    return load_yaml(path).data


def load_model(model: type[M], path: Path) -> M:
    return validate_doc(model, load_yaml(path))
