"""The config files' reference, generated from the models so that it is never written twice.

    python -m greenzone.reference [DIR]   # default: firmware_config/reference

writes one Markdown file per kind of config file (node, hub, ward). A test fails when the
committed files differ from what the current models produce: rerun the command after
changing a model.
"""

from __future__ import annotations

import json
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from checkpoint.generated import write_files
from checkpoint.settings.fields import submodel
from greenzone.provision.ward import WardConfig
from hub.config import HubConfig

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "firmware_config" / "reference"


def _models() -> dict[str, tuple[str, type[BaseModel]]]:
    from checkpoint.contract.node.config import NodeConfig  # noqa: PLC0415 - the edge/hub extra

    return {
        "node-config.md": ("Node config (`checkpoint edge run --config`)", NodeConfig),
        "hub-config.md": ("Hub config (`checkpoint hub run --config`)", HubConfig),
        "ward-config.md": ("Ward file (`checkpoint provision`)", WardConfig),
    }


def _type_name(annotation: Any) -> str:
    """A short, stable name: ``Annotated[...]`` shows its base type only (its metadata
    may hold functions, whose repr carries a memory address)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " | ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        optional = len(names) < len(args)
        return " | ".join(names) + (" | None" if optional else "")
    if origin is not None and args:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(_type_name(a) for a in args)}]"
    if isinstance(annotation, type):
        return annotation.__name__
    # "list[greenzone.provision.ward.CheckpointSpec]" -> "list[CheckpointSpec]"
    return re.sub(r"(?:\w+\.)+(\w+)", r"\1", str(annotation))


_BOUNDS = ((at.Ge, "ge", ">="), (at.Gt, "gt", ">"), (at.Le, "le", "<="), (at.Lt, "lt", "<"))


def _constraints(info: FieldInfo) -> str:
    out = []
    for meta in info.metadata:
        for kind, attr, sign in _BOUNDS:
            if isinstance(meta, kind):
                out.append(f"{sign} {getattr(meta, attr)}")
        if isinstance(meta, at.MinLen):
            out.append(f"at least {meta.min_length} item(s)")
        if isinstance(meta, at.MaxLen):
            out.append(f"at most {meta.max_length} long")
        pattern = getattr(meta, "pattern", None)
        if isinstance(pattern, str):
            out.append(f"matches `{pattern}`")
    return ", ".join(out)


def _as_json(value: object) -> object:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else str(value)


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return "(section)"
        # A list of models (the escalation chain's tiers) is shown as the YAML would say it.
        return f"`{json.dumps(value, default=_as_json, ensure_ascii=False)}`"
    if info.default is PydanticUndefined:
        return "**required**"
    value = info.default
    if isinstance(value, int) and not isinstance(value, bool) and value > 0xFF:
        return f"`{value}`"
    return f"`{json.dumps(value, default=str)}`"


def _container(annotation: Any) -> Any:
    """``list`` or ``dict`` for ``list[X]``, ``dict[K, X]`` and the same ``| None``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        found = {_container(arg) for arg in typing.get_args(annotation)} - {None}
        return found.pop() if len(found) == 1 else None
    return origin if origin in (list, dict) else None


def _rows(model: type[BaseModel], prefix: str = "") -> list[str]:
    rows = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        origin = _container(info.annotation)
        if origin is dict:  # entries by id (wards): their keys under `<id>`
            sub = submodel(typing.get_args(info.annotation)[1])
        else:
            sub = submodel(info.annotation)
        description = (info.description or (sub.__doc__ or "" if sub else "")).strip()
        description = " ".join(description.split()).replace("|", "\\|")
        limits = _constraints(info)
        type_name = _type_name(info.annotation).replace("|", "\\|")
        rows.append(
            f"| `{key}` | {type_name} | {_default(info)} | "
            f"{description}{' (' + limits + ')' if limits else ''} |"
        )
        if sub is not None:
            inner = "[]." if origin is list else ".<id>." if origin is dict else "."
            rows.extend(_rows(sub, f"{key}{inner}"))
    return rows


def render(title: str, model: type[BaseModel]) -> str:
    doc = " ".join((model.__doc__ or "").split())
    return (
        f"# {title}\n\n"
        "<!-- Generated by `python -m greenzone.reference`; do not edit. -->\n\n"
        f"{doc + chr(10) + chr(10) if doc else ''}"
        f"Start the file with `kind: {model.model_fields['kind'].default}`. Unknown keys, "
        "a key written twice and an empty file are errors. `checkpoint validate-config FILE` "
        "checks a file and prints one line per problem: `FILE:LINE:COLUMN: key: problem`.\n\n"
        "| key | type | default | meaning |\n|---|---|---|---|\n" + "\n".join(_rows(model)) + "\n"
    )


def render_all() -> dict[str, str]:
    return {name: render(title, model) for name, (title, model) in _models().items()}


def main(argv: list[str]) -> None:
    write_files(argv, DEFAULT_DIR, render_all())


if __name__ == "__main__":
    main(sys.argv[1:])
