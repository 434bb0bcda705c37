"""The project's wheel, built once per test session, and copies restamped with another
version (and optionally a changed module): release "B" and "C" without a second build."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

Patch = Callable[[bytes], bytes]


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
    return f"{name},sha256={digest},{len(data)}"


def restamp(
    wheel: Path, version: str, out: Path, patches: Mapping[str, Patch] | None = None
) -> Path:
    """A copy of ``wheel`` that says it is ``version``; ``patches`` rewrite named files."""
    old_version = wheel.name.split("-")[1]
    old_info = f"greenzone_checkpoint-{old_version}.dist-info/"
    new_info = f"greenzone_checkpoint-{version}.dist-info/"
    out.mkdir(parents=True, exist_ok=True)
    target = out / wheel.name.replace(f"-{old_version}-", f"-{version}-")
    records: list[str] = []
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            name = item.filename.replace(old_info, new_info)
            if name == f"{new_info}RECORD":
                continue
            data = src.read(item)
            if name == f"{new_info}METADATA":
                data = data.replace(
                    f"\nVersion: {old_version}\n".encode(), f"\nVersion: {version}\n".encode()
                )
            if patches and name in patches:
                data = patches[name](data)
            dst.writestr(name, data)
            records.append(_record_line(name, data))
        records.append(f"{new_info}RECORD,,")
        dst.writestr(f"{new_info}RECORD", "\n".join(records) + "\n")
    return target
