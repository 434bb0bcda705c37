"""Build a signed release directory from the project's wheel and its dependency wheels.

The release key is an Ed25519 key of its own, kept apart from the pass-signing keys
(hub/passes/keystore.py): whoever can sign passes must not be able to ship software.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from checkpoint.atomic import write_atomic
from checkpoint.passes.keys import public_key_text
from checkpoint.release.manifest import (
    CONFIG_SCHEMA_VERSION,
    CONTRACT_VERSION,
    MANIFEST_FILE,
    SIGNATURE_FILE,
    Manifest,
    file_entry,
)
from checkpoint.release.signing import ReleaseError, sign_manifest

WHEELHOUSE = "wheelhouse"


def keygen(path: Path) -> str:
    """Write a new release key to ``path`` (mode 600, refused if it exists) and its public
    key text to ``path``.pub; return the public key text nodes are configured with."""
    if path.exists():
        raise ReleaseError("bad_key", f"{path} exists; a release key is never overwritten")
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    write_atomic(path, pem, mode=0o600)
    public = public_key_text(key.public_key())
    write_atomic(path.with_name(path.name + ".pub"), (public + "\n").encode())
    return public


def load_release_key(path: Path) -> Ed25519PrivateKey:
    if path.stat().st_mode & 0o077:
        raise ReleaseError("bad_key", f"{path} is readable by others; chmod 600 it")
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ReleaseError("bad_key", f"{path} is not an Ed25519 key")
    return key


def build_wheel(source: Path, out: Path) -> Path:
    """The project's wheel built from ``source`` (pip, with the backend pyproject.toml names)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wheels = sorted(out.glob("greenzone_checkpoint-*.whl"))
    if done.returncode != 0 or not wheels:
        raise ReleaseError("build_failed", done.stderr.strip()[-500:] or "no wheel was built")
    return wheels[-1]


def wheel_version(wheel: Path) -> str:
    parts = wheel.name.split("-")
    if len(parts) < 5 or not wheel.name.endswith(".whl"):
        raise ReleaseError("bad_manifest", f"{wheel.name} is not a wheel file name")
    return parts[1]


def build_release(
    wheel: Path,
    out: Path,
    key: Ed25519PrivateKey,
    *,
    wheelhouse: Path | None = None,
    min_config_version: int = CONFIG_SCHEMA_VERSION,
    min_contract_version: int = CONTRACT_VERSION,
) -> Path:
    """Write the release of ``wheel`` to ``out``/<version>/ and return that directory.

    ``wheelhouse``: a directory of pinned dependency wheels (``pip wheel -r requirements
    -w DIR``), shipped under wheelhouse/ so that a node installs without an index.
    """
    version = wheel_version(wheel)
    target = out / version
    if target.exists():
        raise ReleaseError("exists", f"{target} exists; a released version is never rebuilt")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=out))
    try:
        shutil.copy2(wheel, staging / wheel.name)
        paths = [wheel.name]
        for dep in sorted(wheelhouse.glob("*.whl")) if wheelhouse else ():
            if dep.name.startswith("greenzone_checkpoint-"):
                continue  # the project's own wheel is the release's wheel
            (staging / WHEELHOUSE).mkdir(exist_ok=True)
            shutil.copy2(dep, staging / WHEELHOUSE / dep.name)
            paths.append(f"{WHEELHOUSE}/{dep.name}")
        manifest = Manifest(
            version=version,
            created_at=datetime.now(UTC),
            wheel=wheel.name,
            files=tuple(file_entry(staging, p) for p in paths),
            min_config_version=min_config_version,
            min_contract_version=min_contract_version,
        )
        text = manifest.model_dump_json(indent=2).encode()
        (staging / MANIFEST_FILE).write_bytes(text)
        (staging / SIGNATURE_FILE).write_text(sign_manifest(text, key) + "\n", encoding="ascii")
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
