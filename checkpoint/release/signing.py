"""Signing and checking a release with the release key, which is not a pass-signing key.

The signature covers a domain tag and the manifest's exact bytes, so neither a pass nor a
trust document signature can stand in for it. Every refusal is a ReleaseError with a short
reason the node reports to the hub.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from checkpoint.errors import CheckpointError
from checkpoint.passes.keys import load_public_key
from checkpoint.release.manifest import MANIFEST_FILE, SIGNATURE_FILE, Manifest, file_entry

DOMAIN: Final = b"greenzone-release\x00"


class ReleaseError(CheckpointError, ValueError):
    """A release is refused. ``reason``: ``bad_signature``, ``bad_manifest``, ``bad_hash``,
    ``missing_file``, ``unsupported``, ``no_space``, ``download_failed``, ``install_failed``,
    ``health_gate``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def sign_manifest(manifest_bytes: bytes, key: Ed25519PrivateKey) -> str:
    return base64.urlsafe_b64encode(key.sign(DOMAIN + manifest_bytes)).decode().rstrip("=")


def check_manifest(manifest_bytes: bytes, signature: str, public_key: str) -> Manifest:
    """The manifest, once its signature by ``public_key`` checks out; ReleaseError otherwise."""
    text = signature.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        load_public_key(public_key).verify(raw, DOMAIN + manifest_bytes)
    except (InvalidSignature, binascii.Error, ValueError):
        raise ReleaseError(
            "bad_signature", "the manifest is not signed by the release key"
        ) from None
    try:
        return Manifest.model_validate_json(manifest_bytes)
    except ValidationError as exc:
        raise ReleaseError("bad_manifest", str(exc).splitlines()[0]) from None


def read_manifest(root: Path, public_key: str) -> Manifest:
    """The signed manifest of the release directory ``root`` (files not checked yet)."""
    try:
        manifest_bytes = (root / MANIFEST_FILE).read_bytes()
        signature = (root / SIGNATURE_FILE).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReleaseError("missing_file", f"{root}: {exc}") from None
    return check_manifest(manifest_bytes, signature, public_key)


def check_files(root: Path, manifest: Manifest) -> None:
    """Every file the manifest lists is present with its size and sha256."""
    for entry in manifest.files:
        try:
            actual = file_entry(root, entry.path)
        except OSError as exc:
            raise ReleaseError("missing_file", f"{entry.path}: {exc.strerror}") from None
        if actual != entry:
            raise ReleaseError(
                "bad_hash",
                f"{entry.path}: sha256 {actual.sha256[:12]}..., expected "
                f"{entry.sha256[:12]}... (size {actual.size}, expected {entry.size})",
            )


def verify_release(root: Path, public_key: str) -> Manifest:
    """Check a release directory completely: signature, manifest, every file."""
    manifest = read_manifest(root, public_key)
    check_files(root, manifest)
    return manifest
