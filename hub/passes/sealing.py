"""Private signing keys at rest in the state store: sealed with AES-256-GCM.

The sealing key is derived (HKDF-SHA256) from a secret the hub reads from its credentials
(``passes.key_credential``, a systemd credential): a copy of the database alone (a backup,
a replica, another tenant of the server) holds no usable key. The key id is bound to its
ciphertext as associated data, so rows cannot be swapped. On SQLite without a credential
the secret is a random file beside the hub's other pass files (0600), since a single
instance owns both.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from checkpoint.atomic import write_atomic
from checkpoint.passes.errors import KeyStoreError

MIN_SECRET_CHARS = 32
_NONCE = 12


class Sealer:
    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise KeyStoreError(
                f"the pass key secret must have at least {MIN_SECRET_CHARS} characters "
                "(for example: openssl rand -hex 32)"
            )
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"checkpoint pass keys v1"
        ).derive(secret.encode())
        self._aead = AESGCM(derived)

    def seal(self, key_id: str, plain: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plain, key_id.encode())

    def open(self, key_id: str, sealed: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], key_id.encode())
        except (InvalidTag, ValueError):
            raise KeyStoreError(
                f"key {key_id!r} cannot be unsealed: this hub's pass key secret differs "
                "from the one that sealed it"
            ) from None

    def __repr__(self) -> str:  # never the key, whatever logs the object
        return "Sealer(<secret>)"


def local_secret(path: Path) -> str:
    """The single-instance secret: created once, kept 0600."""
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise KeyStoreError(f"{path} is readable by others; chmod 600 it")
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_hex(32)
    write_atomic(path, secret.encode(), mode=0o600)
    return secret
