"""Field types and helpers shared by the config models: host names, URLs, the file's kind."""

from __future__ import annotations

import ipaddress
import re
import types
import typing
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field

# RFC 1123 labels; an underscore is allowed because some LAN names carry one.
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


def check_host(value: str) -> str:
    """A DNS name or an IPv4/IPv6 address (no scheme, port or path)."""
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        pass
    else:
        return value
    labels = value.rstrip(".").split(".")
    if not value or len(value) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{value!r} is not a host name or IP address")
    return value


def check_http_url(value: str) -> str:
    """``http(s)://host[:port][/path]``."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    check_host(parts.hostname)
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise ValueError(f"{value!r} has a bad port") from None
    return value


Host = Annotated[str, AfterValidator(check_host)]
HttpUrl = Annotated[str, AfterValidator(check_http_url)]


def kind_field(kind: str) -> Any:
    """The top-level ``kind:`` key: what the file is, so that nothing has to guess it.
    Optional for a command that knows (``edge run`` reads a node file); a file of another
    kind is refused."""
    return Field(
        default=kind,
        description=f"What this file is: `{kind}`. `checkpoint validate-config` needs it "
        "to know which checks to run; a command given a file of another kind refuses it",
    )


def submodel(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``X``, ``X | None``, ``list[X]`` or ``Annotated[X, ...]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (
        typing.Union,
        types.UnionType,
        typing.Annotated,
        list,
    ):
        for arg in typing.get_args(annotation):
            found = submodel(arg)
            if found is not None:
                return found
    return None
