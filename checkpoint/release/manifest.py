"""A release's manifest: what it is, what it holds (every file's sha256 and size), and the
oldest node config schema and MQTT contract it runs with.

A release is a directory::

    manifest.json     this model as JSON text
    manifest.sig      Ed25519 signature of the release key over the exact bytes above
    <files>           the project's wheel and, under wheelhouse/, its pinned dependencies

The manifest travels and is signed as bytes: re-serialising a parsed model is not
byte-stable, the file is.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

MANIFEST_FILE: Final = "manifest.json"
SIGNATURE_FILE: Final = "manifest.sig"
# The versions this code speaks; a release says the oldest it accepts.
CONTRACT_VERSION: Final = 1  # the ``v1`` of checkpoint/v1/... and every payload's ``v``
CONFIG_SCHEMA_VERSION: Final = 1  # the node config file's shape (checkpoint/contract/node)

# PEP 440-ish, and safe as a directory name (releases/<version>/).
VERSION_PATTERN = r"^[0-9][0-9A-Za-z.+_-]{0,63}$"
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def _relative_path(text: str) -> str:
    path = PurePosixPath(text)
    if path.is_absolute() or ".." in path.parts or not path.parts or text != str(path):
        raise ValueError(f"{text!r} is not a plain relative path")
    if text in (MANIFEST_FILE, SIGNATURE_FILE):
        raise ValueError(f"{text!r} is reserved")
    return text


def _sha256(text: str) -> str:
    if not _SHA256_RE.match(text):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    return text


class ReleaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Annotated[str, AfterValidator(_relative_path)] = Field(max_length=255)
    sha256: Annotated[str, AfterValidator(_sha256)]
    size: int = Field(ge=0)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    package: Literal["greenzone-checkpoint"] = "greenzone-checkpoint"
    version: str = Field(pattern=VERSION_PATTERN, description="The wheel's version")
    created_at: AwareDatetime
    wheel: str = Field(description="The project's wheel: one of files")
    files: tuple[ReleaseFile, ...] = Field(min_length=1, max_length=500)
    min_config_version: int = Field(ge=1, description="Oldest node config schema it runs")
    min_contract_version: int = Field(ge=1, description="Oldest MQTT contract it speaks")

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        paths = [f.path for f in self.files]
        if len(paths) != len(set(paths)):
            raise ValueError("file paths must be unique")
        if self.wheel not in paths or not self.wheel.endswith(".whl"):
            raise ValueError("wheel must be one of files and a .whl")
        return self

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def unsupported_reason(
        self,
        config_version: int = CONFIG_SCHEMA_VERSION,
        contract_version: int = CONTRACT_VERSION,
    ) -> str | None:
        """Why a node with these versions cannot run this release, or None when it can."""
        if config_version < self.min_config_version:
            return (
                f"release {self.version} needs config schema {self.min_config_version}, "
                f"this node's config is {config_version}"
            )
        if contract_version < self.min_contract_version:
            return (
                f"release {self.version} needs contract v{self.min_contract_version}, "
                f"this node speaks v{contract_version}"
            )
        return None


def file_entry(root: Path, path: str) -> ReleaseFile:
    digest = hashlib.sha256()
    size = 0
    with (root / path).open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return ReleaseFile(path=path, sha256=digest.hexdigest(), size=size)
