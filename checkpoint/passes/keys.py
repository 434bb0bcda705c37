"""Public keys as text (base64url of the 32 raw Ed25519 bytes), for trust lists and files."""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def load_public_key(text: str) -> Ed25519PublicKey:
    """Raise ValueError when ``text`` is not a 32-byte Ed25519 key in base64url."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"public key is not base64url: {exc}") from None
    if len(raw) != 32:
        raise ValueError(f"public key is {len(raw)} bytes, Ed25519 needs 32")
    return Ed25519PublicKey.from_public_bytes(raw)
